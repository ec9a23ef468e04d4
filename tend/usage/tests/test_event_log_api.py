"""``GET /api/v1/events``: the raw event log, newest first, walked by cursor without loss."""

import pytest

from tend.lib.cursor import encode_cursor
from tend.lib.dates import from_ms
from tend.usage.models import UsageEvent
from tend.usage.tests.usage_history import HISTORY, NOW, build_history, send_events, ts_of

pytestmark = pytest.mark.django_db
URL = "/api/v1/events"


@pytest.fixture
def history(owner):
    return build_history(owner)


def walk(client, limit, **filters) -> tuple[list[dict], int]:
    """Every page of a listing: the items in order and how many pages it took."""
    items, cursor, pages = [], None, 0
    while True:
        params = {**filters, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(URL, params)
        assert response.status_code == 200, response.content
        body = response.json()
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages
        assert len(body["items"]) == limit


def test_a_cursor_walk_of_an_account_returns_every_event_once_newest_first(owner, history):
    items, pages = walk(owner.api, 2, account_external_id="acme")
    stored = UsageEvent.objects.filter(account=history["acme"])
    assert len(items) == stored.count() == 13
    assert len({i["id"] for i in items}) == 13
    assert pages == 7
    keys = [(i["timestamp"], i["id"]) for i in items]
    expected = [
        (from_ms(ts).isoformat(), pk)
        for ts, pk in stored.order_by("-ts", "-id").values_list("ts", "id")
    ]
    assert keys == expected


def test_events_with_the_same_time_are_split_across_pages_by_id(owner, history):
    # Two of today's events share NOW exactly: a page boundary between them loses neither.
    first = owner.api.get(URL, {"account_external_id": "acme", "limit": 1}).json()
    second = owner.api.get(
        URL, {"account_external_id": "acme", "limit": 1, "cursor": first["next_cursor"]}
    ).json()
    assert first["items"][0]["timestamp"] == second["items"][0]["timestamp"] == NOW.isoformat()
    assert first["items"][0]["id"] > second["items"][0]["id"]


def test_an_event_arriving_mid_walk_never_shifts_a_page(owner, history, workspace):
    first = owner.api.get(URL, {"account_external_id": "acme", "limit": 5}).json()
    send_events(workspace, [("acme", "u1", "Logged in", "Core", 0, 0, None)])
    rest = walk_from(owner.api, first["next_cursor"], account_external_id="acme")
    ids = [i["id"] for i in first["items"] + rest]
    assert len(ids) == len(set(ids)) == 13


def walk_from(client, cursor, **filters) -> list[dict]:
    items = []
    while cursor:
        body = client.get(URL, {**filters, "limit": 4, "cursor": cursor}).json()
        items += body["items"]
        cursor = body["next_cursor"]
    return items


def test_without_an_account_the_log_is_walked_in_arrival_order(owner, history, outsider):
    send_events(outsider.workspace, [("theirs", "x", "Logged in", "", 0, 0, None)])
    items, _ = walk(owner.api, 5)
    assert len(items) == len(HISTORY)
    assert [i["id"] for i in items] == sorted((i["id"] for i in items), reverse=True)
    assert "theirs" not in {i["account_external_id"] for i in items}


def test_an_event_reads_back_with_its_fields(owner, history):
    item = owner.api.get(URL, {"account_external_id": "acme", "limit": 1}).json()["items"][0]
    assert item["account_external_id"] == "acme"
    assert item["user_external_id"] == "u1"
    assert item["module"] == "Reports"
    assert item["duration_seconds"] == 60.0
    assert item["source"] == "api"
    assert item["activity"] in ("Viewed report", "Exported report")


@pytest.mark.parametrize(
    "filters, count",
    [
        ({"account_external_id": "acme", "user_external_id": "u2"}, 5),
        ({"account_external_id": "acme", "module": "Reports"}, 5),
        ({"account_external_id": "acme", "activity": "Logged in"}, 5),
        ({"user_external_id": "u1"}, 7),
        ({"module": "Core"}, 8),
        ({"account_external_id": "nobody"}, 0),
        ({"user_external_id": "nobody"}, 0),
    ],
)
def test_filters_narrow_the_log(owner, history, filters, count):
    items, _ = walk(owner.api, 3, **filters)
    assert len(items) == count
    if "module" in filters:
        assert {i["module"] for i in items} == {filters["module"]}


def test_old_and_new_events_of_an_account_come_out_by_event_time_not_arrival(
    owner, history, workspace
):
    # Sent last but happened first: it comes last in an account's listing.
    send_events(workspace, [("acme", "u1", "Backfilled", "Core", 60, 0, None)])
    items, _ = walk(owner.api, 50, account_external_id="acme")
    assert items[-1]["activity"] == "Backfilled"
    assert items[-1]["timestamp"] == from_ms(ts_of(60)).isoformat()


@pytest.mark.parametrize(
    "params, field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "lots"}, "limit"),
        ({"cursor": "%%%"}, "cursor"),
        ({"account_external_id": "x" * 256}, "account_external_id"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(owner, params, field):
    response = owner.api.get(URL, params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_a_cursor_from_the_other_ordering_is_refused_naming_the_cursor(owner, history):
    by_arrival = encode_cursor({"id": 5})
    response = owner.api.get(URL, {"account_external_id": "acme", "cursor": by_arrival})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "cursor", "message": "cursor is not one this API issued for these filters"}
    ]
    by_time = encode_cursor({"ts": 1, "id": 5})
    assert owner.api.get(URL, {"cursor": by_time}).status_code == 422


def test_the_log_is_not_capped(owner, workspace):
    send_events(workspace, [("big", "u", "Clicked", "", 0, i % 600, None) for i in range(2500)])
    items, pages = walk(owner.api, 1000, account_external_id="big")
    assert (len(items), pages) == (2500, 3)
    assert len({i["id"] for i in items}) == 2500
