"""A segment's members and history through the API: keyset pages with no cap, adding and
removing accounts of a static segment with a result per item, and the history filtered by
kind, time and account."""

import datetime

import orjson
import pytest
from django.utils import timezone

from tend.accounts.actions.accounts import update_account
from tend.accounts.bulk import upsert_accounts
from tend.segments.actions import evaluate_segment
from tend.segments.models import SegmentChange, SegmentMember
from tend.segments.tests.conftest import PAYING, shared, token_of

pytestmark = pytest.mark.django_db
BASE = "/api/v1/segments"


def send(client, method: str, url: str, body):
    return getattr(client, method)(url, data=orjson.dumps(body), content_type="application/json")


def all_pages(client, url, params=None) -> list[dict]:
    items, cursor = [], None
    while True:
        page = client.get(url, {**(params or {}), **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.content
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


def test_members_page_by_account_id_to_the_end_in_one_query_a_page(
    owner, django_assert_max_num_queries
):
    upsert_accounts(
        owner.actor,
        [{"external_id": f"a{i:04}", "name": f"A {i}", "status": "paying"} for i in range(1_250)],
        source="api",
    )
    segment = shared(owner, "Paying", PAYING)
    with django_assert_max_num_queries(4):
        first = owner.api.get(f"{BASE}/{segment.pk}/members", {"limit": 1000})
    assert len(first.json()["items"]) == 1000 and first.json()["next_cursor"]
    items = all_pages(owner.api, f"{BASE}/{segment.pk}/members", {"limit": 300})
    ids = [m["account_id"] for m in items]
    assert len(ids) == 1_250 and ids == sorted(ids)
    assert items[0]["external_id"] == "a0000" and items[0]["status"] == "paying"
    assert items[0]["entered_at"]


def test_adding_accounts_answers_a_result_per_item_and_drops_none(owner, book):
    token_of(owner)
    segment = shared(owner, "Sponsors")
    response = send(
        owner.api,
        "post",
        f"{BASE}/{segment.pk}/members",
        {
            "account_ids": [book["acme"].pk, 555_555],
            "external_ids": ["globex", "Globex"],
            "reference": "list.csv",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(r["field"], r["status"]) for r in body["results"]] == [
        ("account_ids.0", "added"),
        ("account_ids.1", "error"),
        ("external_ids.0", "added"),
        ("external_ids.1", "error"),  # external ids are case-sensitive
    ]
    assert body["results"][3]["message"] == "no account has external id 'Globex'"
    assert body["counts"] == {"added": 2, "error": 2}
    change = SegmentChange.objects.filter(segment=segment).first()
    assert (change.source, change.reference, change.member_id) == (
        "api",
        "list.csv",
        owner.member.pk,
    )


def test_removing_accounts_answers_a_result_per_item(owner, book):
    segment = shared(owner, "Sponsors")
    send(owner.api, "post", f"{BASE}/{segment.pk}/members", {"external_ids": ["acme", "globex"]})
    response = send(
        owner.api, "delete", f"{BASE}/{segment.pk}/members", {"external_ids": ["acme", "hooli"]}
    )
    assert [r["status"] for r in response.json()["results"]] == ["removed", "not_member"]
    assert list(SegmentMember.objects.values_list("account__external_id", flat=True)) == ["globex"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "account_ids"),
        ({"account_ids": ["x"]}, "account_ids.0"),
        ({"external_ids": "acme"}, "external_ids"),
        ({"external_ids": ["acme"], "source": "condition"}, "source"),
        ({"external_ids": ["acme"], "members": [1]}, "members"),
    ],
)
def test_a_malformed_membership_request_is_named(owner, book, body, field):
    segment = shared(owner, "Sponsors")
    response = send(owner.api, "post", f"{BASE}/{segment.pk}/members", body)
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field
    assert not SegmentMember.objects.exists()


def test_a_dynamic_segment_refuses_accounts_by_hand_and_a_viewer_changes_none(owner, viewer, book):
    dynamic = shared(owner, "Paying", PAYING)
    response = send(owner.api, "post", f"{BASE}/{dynamic.pk}/members", {"external_ids": ["wayne"]})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "kind"
    static = shared(owner, "Sponsors")
    for method in ("post", "delete"):
        assert (
            send(
                viewer.api, method, f"{BASE}/{static.pk}/members", {"external_ids": ["acme"]}
            ).status_code
            == 403
        )


def test_history_lists_entries_and_exits_newest_first_with_filters(
    owner, book, django_assert_max_num_queries
):
    segment = shared(owner, "Paying", PAYING)
    SegmentChange.objects.filter(segment=segment).update(
        at=timezone.now() - datetime.timedelta(days=3)
    )
    update_account(owner.actor, book["globex"], {"status": "churned"})
    update_account(owner.actor, book["wayne"], {"status": "paying"})
    evaluate_segment(segment)
    url = f"{BASE}/{segment.pk}/history"
    with django_assert_max_num_queries(4):
        response = owner.api.get(url, {"limit": 2})
    first = response.json()
    assert [(c["account"]["external_id"], c["kind"]) for c in first["items"]] == [
        ("globex", "left"),
        ("wayne", "entered"),
    ]
    assert first["items"][0]["source"] == "condition" and first["items"][0]["member"] is None
    everything = all_pages(owner.api, url, {"limit": 2})
    assert len(everything) == 6
    assert [c["account"]["external_id"] for c in all_pages(owner.api, url, {"kind": "left"})] == [
        "globex"
    ]
    recent = all_pages(
        owner.api, url, {"since": (timezone.now() - datetime.timedelta(days=1)).isoformat()}
    )
    assert {c["account"]["external_id"] for c in recent} == {"globex", "wayne"}
    mine = all_pages(owner.api, url, {"account_id": book["globex"].pk})
    assert [c["kind"] for c in mine] == ["left", "entered"]


def test_history_needs_a_time_zone_and_a_valid_kind(owner, book):
    segment = shared(owner, "Paying", PAYING)
    response = owner.api.get(f"{BASE}/{segment.pk}/history", {"since": "2025-01-01T00:00:00"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "since"
    response = owner.api.get(f"{BASE}/{segment.pk}/history", {"kind": "joined"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "kind"
