"""The segments API: create, list, read, change, delete, refresh and counts; who sees and
changes what (outsiders and other members' private segments 404, viewers 403); a 422 naming
the field for bad input; a fixed number of queries per page."""

import orjson
import pytest

from tend.accounts.actions.accounts import update_account
from tend.segments.models import Segment, SegmentCount
from tend.segments.tests.conftest import ENTERPRISE, PAYING, shared, token_of

pytestmark = pytest.mark.django_db
BASE = "/api/v1/segments"


def send(client, method: str, url: str, body=None):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(
        url, data=orjson.dumps(body if body is not None else {}), content_type="application/json"
    )


def error_of(response) -> tuple[str, str]:
    assert response.status_code == 422, response.content
    error = response.json()["errors"][0]
    return error["field"], error["message"]


def test_a_dynamic_segment_created_through_the_api_answers_with_its_members(owner, book):
    token_of(owner)
    response = send(
        owner.api,
        "post",
        BASE,
        {
            "name": "Paying enterprise",
            "condition": {"all": [PAYING, ENTERPRISE]},
            "visibility": "shared",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["members"] == 2 and body["kind"] == "dynamic" and body["visibility"] == "shared"
    assert body["owner"]["email"] == "owner@acme.test"
    assert body["evaluated_at"] is not None and body["evaluation_error"] == ""
    assert body["can_edit"] is True
    assert owner.api.get(f"{BASE}/{body['id']}").json() == body


def test_segments_are_created_private_by_default_and_belong_to_the_tokens_member(
    practitioner, book
):
    token_of(practitioner)
    response = send(practitioner.api, "post", BASE, {"name": "Mine", "kind": "static"})
    assert response.status_code == 201
    assert response.json()["visibility"] == "private"
    assert Segment.objects.get().owner == practitioner.member


def test_a_token_no_member_created_makes_shared_segments_only(owner, book):
    field, message = error_of(send(owner.api, "post", BASE, {"name": "Mine", "kind": "static"}))
    assert field == "visibility" and "belongs to a member" in message
    response = send(
        owner.api, "post", BASE, {"name": "Ours", "kind": "static", "visibility": "shared"}
    )
    assert response.status_code == 201 and response.json()["owner"] is None


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"kind": "static"}, "name", "Field required"),
        (
            {
                "name": "A",
                "condition": {"all": [{"field": "stauts", "op": "eq", "value": "paying"}]},
            },
            "condition.all.0.field",
            "unknown field 'stauts'; did you mean 'status'?",
        ),
        (
            {"name": "A", "condition": {"field": "segment", "op": "in", "value": [31337]}},
            "condition.value.0",
            "unknown segment 31337",
        ),
        (
            {"name": "A", "kind": "smart", "condition": PAYING},
            "kind",
            "Input should be 'dynamic' or 'static'",
        ),
        (
            {"name": "A", "condition": PAYING, "colour": "red"},
            "colour",
            "Extra inputs are not permitted",
        ),
        (
            {"name": "A"},
            "condition",
            "is required: a dynamic segment holds the accounts it matches",
        ),
    ],
)
def test_bad_input_answers_422_naming_the_field(owner, book, body, field, message):
    response = send(owner.api, "post", BASE, {"visibility": "shared", **body})
    assert error_of(response) == (field, message)
    assert not Segment.objects.exists()


def test_the_list_shows_shared_segments_and_your_private_ones_paged_in_few_queries(
    owner, practitioner, book, django_assert_max_num_queries
):
    token_of(owner)
    for i in range(5):
        shared(owner, f"Shared {i}", PAYING if i % 2 else None)
    shared(owner, "Owner's own", visibility="private")
    shared(practitioner, "Not yours", visibility="private")
    seen, cursor = [], None
    with django_assert_max_num_queries(4):
        response = owner.api.get(BASE, {"limit": 4})
    while True:
        page = owner.api.get(BASE, {"limit": 4, **({"cursor": cursor} if cursor else {})}).json()
        seen += [s["name"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert response.status_code == 200
    assert seen == [*(f"Shared {i}" for i in range(5)), "Owner's own"]
    assert [s["name"] for s in owner.api.get(BASE, {"kind": "dynamic"}).json()["items"]] == [
        "Shared 1",
        "Shared 3",
    ]
    assert [s["name"] for s in owner.api.get(BASE, {"q": "own"}).json()["items"]] == ["Owner's own"]


def test_a_bad_cursor_or_limit_is_named(owner):
    assert error_of(owner.api.get(BASE, {"cursor": "nonsense"}))[0] == "cursor"
    assert error_of(owner.api.get(BASE, {"limit": 0}))[0] == "limit"


def test_changing_the_condition_re_evaluates_before_the_answer(owner, book):
    segment = shared(owner, "Paying", PAYING)
    response = send(
        owner.api, "patch", f"{BASE}/{segment.pk}", {"condition": ENTERPRISE, "description": "Big"}
    )
    assert response.status_code == 200
    assert response.json()["members"] == 4 and response.json()["description"] == "Big"
    assert (
        error_of(send(owner.api, "patch", f"{BASE}/{segment.pk}", {"kind": "static"}))[0] == "kind"
    )
    assert error_of(send(owner.api, "patch", f"{BASE}/{segment.pk}", {"name": None}))[0] == "name"


def test_delete_removes_the_segment_unless_a_condition_names_it(owner, book):
    paying = shared(owner, "Paying", PAYING)
    follower = shared(owner, "Follower", {"field": "segment", "op": "in", "value": [paying.pk]})
    field, message = error_of(owner.api.delete(f"{BASE}/{paying.pk}"))
    assert field == "segment" and "'Follower'" in message
    assert owner.api.delete(f"{BASE}/{follower.pk}").status_code == 204
    assert owner.api.delete(f"{BASE}/{paying.pk}").status_code == 204
    assert not Segment.objects.exists()


def test_refresh_evaluates_now_and_says_what_moved(owner, contributor, viewer, book):
    segment = shared(owner, "Paying", PAYING)
    update_account(owner.actor, book["wayne"], {"status": "paying"})
    assert viewer.api.post(f"{BASE}/{segment.pk}/refresh").status_code == 403
    # A contributor's seat (its read-only token cannot write): through the session.
    response = contributor.browser.post(f"{BASE}/{segment.pk}/refresh")
    assert response.status_code == 200
    body = response.json()
    assert (body["entered"], body["left"], body["segment"]["members"]) == (1, 0, 5)
    static = shared(owner, "Sponsors")
    assert error_of(owner.api.post(f"{BASE}/{static.pk}/refresh"))[0] == "kind"


def test_counts_list_the_recorded_days(owner, book):
    segment = shared(owner, "Paying", PAYING)
    today = SegmentCount.objects.get(segment=segment).day
    response = owner.api.get(f"{BASE}/{segment.pk}/counts")
    assert response.json() == {"items": [{"day": today.isoformat(), "members": 4}]}


def test_a_viewer_reads_but_changes_nothing(owner, viewer, book):
    segment = shared(owner, "Paying", PAYING)
    assert viewer.api.get(f"{BASE}/{segment.pk}").json()["can_edit"] is False
    assert send(viewer.api, "post", BASE, {"name": "V", "kind": "static"}).status_code == 403
    assert send(viewer.api, "patch", f"{BASE}/{segment.pk}", {"name": "V"}).status_code == 403
    assert viewer.api.delete(f"{BASE}/{segment.pk}").status_code == 403
    assert Segment.objects.get().name == "Paying"


@pytest.mark.parametrize(
    "method, suffix",
    [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "/refresh"),
        ("get", "/counts"),
        ("get", "/members"),
        ("post", "/members"),
        ("delete", "/members"),
        ("get", "/history"),
    ],
)
def test_outsiders_and_other_members_private_segments_answer_404(
    owner, practitioner, outsider, book, method, suffix
):
    token_of(practitioner)
    ours = shared(owner, "Sponsors")
    private = shared(practitioner, "Private", visibility="private")
    body = {"external_ids": ["acme"]} if suffix == "/members" else {"name": "Taken"}
    for client, segment in ((outsider.api, ours), (owner.api, private)):
        response = send(client, method, f"{BASE}/{segment.pk}{suffix}", body)
        assert response.status_code == 404, (method, suffix, response.content)
    assert Segment.objects.get(pk=ours.pk).name == "Sponsors"
    assert Segment.objects.get(pk=private.pk).member_count == 0
