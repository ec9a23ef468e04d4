"""The ingestion log and usage settings through the API: the same numbers as the page, read
scope for reading, admin scope for changing, each workspace seeing only its own."""

import datetime

import orjson
import pytest
from django.utils import timezone

from tend.test import make_token, token_client
from tend.usage.ingest.facts import Reason
from tend.usage.models import UsageSettings
from tend.usage.rollups import roll_up
from tend.usage.tests.ingestion_traffic import native_events, segment_calls, send_sample_traffic

pytestmark = pytest.mark.django_db
COUNTS = "/api/v1/ingestion/counts"
REJECTIONS = "/api/v1/ingestion/rejections"
UNMAPPED = "/api/v1/ingestion/unmapped"
STATUS = "/api/v1/ingestion/status"
SETTINGS = "/api/v1/usage-settings"


def patch(client, body):
    return client.patch(SETTINGS, data=orjson.dumps(body), content_type="application/json")


def fields_of(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


# --- counts ------------------------------------------------------------------------------------


def test_counts_are_hourly_rows_per_source(owner, viewer):
    now = timezone.now()
    send_sample_traffic(owner.workspace, at=now)
    native_events(
        owner.workspace,
        [{"account_external_id": "a", "activity": "x"}] * 4,
        at=now - datetime.timedelta(hours=30),
    )
    native_events(
        owner.workspace,
        [{"account_external_id": "a", "activity": "x"}],
        at=now - datetime.timedelta(hours=60),
    )
    response = viewer.api.get(COUNTS)
    assert response.status_code == 200
    body = response.json()
    assert body["hours"] == 48
    rows = [
        (r["source"], r["received"], r["stored"], r["duplicates"], r["rejected"])
        for r in body["items"]
    ]
    assert rows == [("api", 4, 4, 0, 0), ("api", 5, 2, 1, 2), ("segment", 4, 3, 0, 1)]
    hours = [r["hour"] for r in body["items"]]
    assert hours == sorted(hours)

    only_segment = viewer.api.get(COUNTS, {"hours": 72, "source": "segment"}).json()["items"]
    assert [r["source"] for r in only_segment] == ["segment"]
    assert len(viewer.api.get(COUNTS, {"hours": 72}).json()["items"]) == 4
    assert len(viewer.api.get(COUNTS, {"hours": 1}).json()["items"]) == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"hours": 0}, "hours"),
        ({"hours": 10_000}, "hours"),
        ({"hours": "many"}, "hours"),
        ({"source": "mixpanel"}, "source"),
    ],
)
def test_bad_count_queries_name_the_field(viewer, query, field):
    response = viewer.api.get(COUNTS, query)
    assert response.status_code == 422
    assert fields_of(response) == [field]


# --- refused items -------------------------------------------------------------------------------


def test_rejections_are_walked_newest_first_with_a_cursor(
    owner, viewer, django_assert_max_num_queries
):
    earlier = timezone.now() - datetime.timedelta(minutes=5)
    segment_calls(
        owner.workspace, rejections=[(Reason.INVALID_FIELD, "event", "old", "{}")] * 12, at=earlier
    )
    segment_calls(owner.workspace, rejections=[(Reason.MISSING_FIELD, "event", "new", "{}")] * 11)
    client = viewer.api
    client.get(REJECTIONS)
    seen, cursor, pages = [], None, 0
    while True:
        with django_assert_max_num_queries(3):
            response = client.get(
                REJECTIONS, {"limit": 5, **({"cursor": cursor} if cursor else {})}
            )
        assert response.status_code == 200
        body = response.json()
        assert len(body["items"]) <= 5
        seen.extend(body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 5
    assert len({r["id"] for r in seen}) == 23
    assert [r["message"] for r in seen] == ["new"] * 11 + ["old"] * 12
    ordered = [(r["received_at"], r["id"]) for r in seen]
    assert ordered == sorted(ordered, reverse=True)


def test_rejections_filter_by_source_and_reason(owner, viewer):
    send_sample_traffic(owner.workspace)
    items = viewer.api.get(REJECTIONS, {"source": "api"}).json()["items"]
    assert sorted(r["reason"] for r in items) == ["invalid_timestamp", "missing_field"]
    item = viewer.api.get(REJECTIONS, {"reason": "future_timestamp"}).json()["items"]
    assert [(r["source"], r["field"]) for r in item] == [("segment", "timestamp")]
    assert "2099-01-01" in item[0]["sample"]
    assert viewer.api.get(REJECTIONS, {"source": "totango"}).json() == {
        "items": [],
        "next_cursor": None,
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"cursor": "not-one"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 5000}, "limit"),
        ({"source": "nowhere"}, "source"),
        ({"reason": "x" * 41}, "reason"),
    ],
)
def test_bad_rejection_queries_name_the_field(viewer, query, field):
    response = viewer.api.get(REJECTIONS, query)
    assert response.status_code == 422
    assert fields_of(response) == [field]


# --- unmapped traits -------------------------------------------------------------------------------


def test_unmapped_traits_are_listed_and_paged(owner, viewer):
    send_sample_traffic(owner.workspace)
    body = viewer.api.get(UNMAPPED).json()
    names = {(r["object_type"], r["name"], r["sample"], r["seen"]) for r in body["items"]}
    assert names == {
        ("account", "plan_tier", "Gold", 1),
        ("account", "seatCount", "25", 1),
        ("user", "favouriteColour", "teal", 1),
    }
    users = viewer.api.get(UNMAPPED, {"object_type": "user"}).json()["items"]
    assert [r["name"] for r in users] == ["favouriteColour"]
    first = viewer.api.get(UNMAPPED, {"limit": 2}).json()
    rest = viewer.api.get(UNMAPPED, {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(first["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert viewer.api.get(UNMAPPED, {"object_type": "planet"}).status_code == 422


# --- status ---------------------------------------------------------------------------------------


def test_status_says_how_many_events_wait_for_the_rollups(owner, viewer):
    native_events(owner.workspace, [{"account_external_id": "a", "activity": "x"}] * 3)
    body = viewer.api.get(STATUS).json()
    assert (body["events_waiting"], body["events_waiting_capped"]) == (3, False)
    assert [s["source"] for s in body["sources"]] == ["api"]
    assert body["sources"][0]["last_stored_hour"] is not None
    roll_up()
    body = viewer.api.get(STATUS).json()
    assert body["events_waiting"] == 0
    assert body["last_counted_at"] is not None
    assert body["last_run_error"] == ""


# --- usage settings -------------------------------------------------------------------------------


def test_usage_settings_are_read_with_their_defaults(viewer):
    assert viewer.api.get(SETTINGS).json() == {
        "create_unknown": True,
        "module_property": "module",
        "licence_attribute": "licenses",
        "retention_days": 400,
    }


def test_an_admin_token_changes_only_the_settings_sent(owner):
    response = patch(owner.api, {"retention_days": 90, "create_unknown": False})
    assert response.status_code == 200
    assert response.json() == {
        "create_unknown": False,
        "module_property": "module",
        "licence_attribute": "licenses",
        "retention_days": 90,
    }
    settings = UsageSettings.objects.get(workspace=owner.workspace)
    assert (settings.retention_days, settings.create_unknown) == (90, False)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"retention_days": 5}, "retention_days"),
        ({"retention_days": "90"}, "retention_days"),
        ({"retention_days": None}, "retention_days"),
        ({"create_unknown": "yes"}, "create_unknown"),
        ({"module_property": "  "}, "module_property"),
        ({"licence_attribute": "Seats!"}, "licence_attribute"),
        ({"colour": "teal"}, "colour"),
    ],
)
def test_bad_settings_get_422_naming_the_field(owner, body, field):
    response = patch(owner.api, body)
    assert response.status_code == 422
    assert fields_of(response) == [field]
    assert not UsageSettings.objects.filter(workspace=owner.workspace).exists()


def test_a_read_token_cannot_change_settings(viewer, owner):
    response = patch(viewer.api, {"retention_days": 90})
    assert response.status_code == 403
    assert not UsageSettings.objects.filter(workspace=owner.workspace).exists()


def test_an_ingest_only_key_reads_nothing(workspace):
    ingester = token_client(make_token(workspace, ("ingest",), name="ingest only"))
    for url in (COUNTS, REJECTIONS, UNMAPPED, STATUS, SETTINGS):
        assert ingester.get(url).status_code == 403, url


def test_every_workspace_sees_only_its_own_log(owner, outsider):
    send_sample_traffic(owner.workspace)
    patch(owner.api, {"retention_days": 60})
    client = outsider.api
    assert client.get(COUNTS).json()["items"] == []
    assert client.get(REJECTIONS).json()["items"] == []
    assert client.get(UNMAPPED).json()["items"] == []
    status = client.get(STATUS).json()
    assert (status["events_waiting"], status["sources"]) == (0, [])
    assert client.get(SETTINGS).json()["retention_days"] == 400
    assert patch(client, {"retention_days": 120}).status_code == 200
    assert UsageSettings.objects.get(workspace=owner.workspace).retention_days == 60


def test_another_workspaces_cursor_shows_nothing_of_theirs(owner, outsider):
    segment_calls(owner.workspace, rejections=[(Reason.INVALID_FIELD, "event", "theirs", "{}")] * 3)
    cursor = owner.api.get(REJECTIONS, {"limit": 1}).json()["next_cursor"]
    assert cursor
    body = outsider.api.get(REJECTIONS, {"cursor": cursor}).json()
    assert body == {"items": [], "next_cursor": None}
