"""Saved views through their actions and ``/api/v1/views``: a segment or a condition with
chosen columns and sort; ``/views/{id}/accounts`` pages through them with those fields
read as the search reads them; access, field-naming errors and query counts."""

import pytest
from django.core.exceptions import PermissionDenied

from tend.accounts.actions.accounts import create_account
from tend.accounts.actions.definitions import delete_attribute
from tend.accounts.models import AttributeDefinition
from tend.lib.errors import InvalidInput
from tend.segments.actions import create_segment, delete_segment
from tend.segments.actions.views import create_view, update_view
from tend.segments.tests.scorecard_world import ENTERPRISE, PAYING, build_book
from tend.segments.view_models import SavedView

pytestmark = pytest.mark.django_db
BASE = "/api/v1/views"


@pytest.fixture
def book(owner):
    return build_book(owner)


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


@pytest.fixture
def renewals(owner, book):
    return create_view(
        owner.actor,
        {
            "name": "Paying by contract",
            "visibility": "shared",
            "condition": PAYING,
            "columns": ["attributes.contract_value", "owner.success_manager", "stage"],
            "sort": ["-attributes.contract_value"],
        },
    )


def every_page(client, url, limit):
    items, cursor = [], None
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url + query).json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


# --- Actions ----------------------------------------------------------------------------------


def test_a_new_view_shows_the_usual_columns_by_name_unless_told(owner, book):
    view = create_view(owner.actor, {"name": "Everyone"})
    assert view.columns == [
        "status",
        "stage",
        "owner.success_manager",
        "usage.last_seen",
        "usage.active_users_14d",
        "health.rank",
        "health.score",
    ]
    assert (view.sort, view.source, view.is_private) == (["name"], "all", True)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"columns": ["status", "attributes.planet"]},
            "columns.1",
            "unknown field 'attributes.planet'",
        ),
        ({"columns": ["status", "status"]}, "columns.1", "'status' is already a column"),
        ({"columns": ["name"]}, "columns.0", "'name' is always the first column"),
        (
            {"columns": ["segment"]},
            "columns.0",
            "unknown field 'segment' (segment membership is not a column)",
        ),
        ({"columns": "status"}, "columns", "expected a list of field names"),
        ({"sort": ["-tags"]}, "sort.0", "'tags' holds several values and cannot be sorted by"),
        ({"sort": ["name", "-name"]}, "sort.1", "sorts by 'name' twice"),
        ({"sort": ["health.scor"]}, "sort.0", "unknown field 'health.scor'"),
        ({"condition": {"field": "status", "op": "eq", "value": "gold"}}, "condition.value", None),
        ({"segment_id": 999}, "segment_id", "unknown segment 999"),
        ({"visibility": "public"}, "visibility", "expected one of private, shared, got 'public'"),
    ],
)
def test_a_view_with_a_problem_is_refused_naming_its_field(owner, book, data, field, message):
    with pytest.raises(InvalidInput) as caught:
        create_view(owner.actor, {"name": "Broken", **data})
    assert caught.value.field == field
    if message is not None:
        assert caught.value.message == message
    assert not SavedView.objects.exists()


def test_a_shared_view_lists_shared_segments_only(owner, book):
    private = create_segment(owner.actor, {"name": "Mine", "condition": ENTERPRISE})
    with pytest.raises(InvalidInput) as caught:
        create_view(owner.actor, {"name": "Team", "visibility": "shared", "segment_id": private.pk})
    assert caught.value.field == "segment_id"
    view = create_view(owner.actor, {"name": "Mine", "segment_id": private.pk})
    with pytest.raises(InvalidInput) as caught:
        update_view(owner.actor, view, {"visibility": "shared"})
    assert caught.value.field == "visibility"


def test_a_contributor_keeps_private_views_and_a_viewer_makes_none(
    owner, contributor, viewer, book
):
    mine = create_view(contributor.actor, {"name": "My accounts"})
    assert mine.owner == contributor.member
    with pytest.raises(PermissionDenied):
        create_view(contributor.actor, {"name": "Team", "visibility": "shared"})
    with pytest.raises(PermissionDenied):
        create_view(viewer.actor, {"name": "Viewer's"})


# --- The API ----------------------------------------------------------------------------------


def test_a_views_accounts_come_with_its_columns_in_its_sort(owner, renewals):
    response = owner.api.get(f"{BASE}/{renewals.pk}/accounts")
    assert response.status_code == 200
    body = response.json()
    assert body["columns"] == ["attributes.contract_value", "owner.success_manager", "stage"]
    assert [
        (i["external_id"], i["attributes.contract_value"], i["owner.success_manager"], i["stage"])
        for i in body["items"]
    ] == [
        ("acme", 50000, "alice@acme.test", "Adoption"),
        ("globex", 10000, "bob@acme.test", "Onboarding"),
        ("initech", None, None, None),  # missing values sort last
    ]
    assert set(body["items"][0]) == {
        "id",
        "external_id",
        "name",
        "attributes.contract_value",
        "owner.success_manager",
        "stage",
    }


def test_a_views_accounts_page_by_cursor_with_no_cap(owner, book):
    for i in range(7):
        create_account(owner.actor, {"external_id": f"z{i}", "name": f"Zed {i}", "status": "trial"})
    trial = {"field": "status", "op": "eq", "value": "trial"}
    view = create_view(owner.actor, {"name": "Trials", "visibility": "shared", "condition": trial})
    items = every_page(owner.api, f"{BASE}/{view.pk}/accounts", 3)
    assert [i["name"] for i in items] == ["Umbrella", *(f"Zed {i}" for i in range(7))]


def test_a_segment_view_lists_its_members(owner, book):
    segment = create_segment(
        owner.actor, {"name": "Enterprise", "visibility": "shared", "condition": ENTERPRISE}
    )
    response = post(
        owner.api,
        BASE,
        {
            "name": "Enterprise",
            "visibility": "shared",
            "segment_id": segment.pk,
            "columns": ["status"],
            "sort": ["-name"],
        },
    )
    assert response.status_code == 201, response.json()
    view = response.json()
    assert view["segment"] == {"id": segment.pk, "name": "Enterprise"}
    items = owner.api.get(f"{BASE}/{view['id']}/accounts").json()["items"]
    assert [(i["name"], i["status"]) for i in items] == [("Initech", "paying"), ("Acme", "paying")]


def test_a_view_whose_segment_was_deleted_answers_why(owner, book):
    segment = create_segment(
        owner.actor, {"name": "Enterprise", "visibility": "shared", "condition": ENTERPRISE}
    )
    view = create_view(
        owner.actor, {"name": "Enterprise", "visibility": "shared", "segment_id": segment.pk}
    )
    delete_segment(owner.actor, segment)
    response = owner.api.get(f"{BASE}/{view.pk}/accounts")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "segment"


def test_a_column_whose_attribute_was_deleted_is_left_out(owner, renewals):
    delete_attribute(
        owner.actor,
        AttributeDefinition.objects.get(workspace=owner.workspace, key="contract_value"),
    )
    body = owner.api.get(f"{BASE}/{renewals.pk}/accounts").json()
    assert body["columns"] == ["owner.success_manager", "stage"]
    assert [i["name"] for i in body["items"]] == ["Acme", "Globex", "Initech"]


def test_change_columns_and_sort_then_delete(owner, renewals):
    response = patch(
        owner.api,
        f"{BASE}/{renewals.pk}",
        {"columns": ["health.score", "status"], "sort": ["name"], "condition": None},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["columns"] == ["health.score", "status"]
    assert response.json()["condition"] is None
    items = owner.api.get(f"{BASE}/{renewals.pk}/accounts").json()["items"]
    assert len(items) == 6
    assert owner.api.delete(f"{BASE}/{renewals.pk}").status_code == 204
    assert not SavedView.objects.exists()


def test_bad_columns_get_422_naming_the_column(owner, renewals):
    response = patch(owner.api, f"{BASE}/{renewals.pk}", {"columns": ["status", "usage.nope"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "columns.1"
    assert SavedView.objects.get(pk=renewals.pk).columns[0] == "attributes.contract_value"


def test_a_viewer_reads_views_but_cannot_write(viewer, renewals):
    assert viewer.api.get(f"{BASE}/{renewals.pk}/accounts").status_code == 200
    assert post(viewer.api, BASE, {"name": "Mine"}).status_code == 403
    assert patch(viewer.api, f"{BASE}/{renewals.pk}", {"name": "x"}).status_code == 403
    assert viewer.api.delete(f"{BASE}/{renewals.pk}").status_code == 403
    assert SavedView.objects.get(pk=renewals.pk).name == "Paying by contract"


def test_an_outsider_gets_404_and_changes_nothing(outsider, renewals):
    for response in (
        outsider.api.get(f"{BASE}/{renewals.pk}"),
        outsider.api.get(f"{BASE}/{renewals.pk}/accounts"),
        patch(outsider.api, f"{BASE}/{renewals.pk}", {"name": "Mine"}),
        outsider.api.delete(f"{BASE}/{renewals.pk}"),
    ):
        assert response.status_code == 404
    assert outsider.api.get(BASE).json()["items"] == []
    assert SavedView.objects.get(pk=renewals.pk).name == "Paying by contract"


def test_reading_a_views_accounts_costs_the_same_queries_for_more_accounts(
    owner, renewals, django_assert_max_num_queries
):
    update_view(owner.actor, renewals, {"columns": ["tags", "stage", "usage.last_seen"]})

    def read():
        assert owner.api.get(f"{BASE}/{renewals.pk}/accounts?limit=1000").status_code == 200

    with django_assert_max_num_queries(30) as captured:
        read()
    before = len(captured)
    for i in range(30):
        create_account(
            owner.actor,
            {"external_id": f"p{i}", "name": f"P {i}", "status": "paying", "tags": ["vip"]},
        )
    with django_assert_max_num_queries(before):
        read()
