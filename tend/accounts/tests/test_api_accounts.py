"""/api/v1/accounts: list, get, create, update, delete through the real HTTP stack."""

import pytest
from django.utils import timezone

from tend.accounts.models import (
    Account,
    AccountTag,
    Assignment,
    AssignmentRole,
    AttributeDefinition,
    AttributeType,
    Stage,
    StageChange,
    Tag,
)

URL = "/api/v1/accounts"


@pytest.fixture
def model(workspace, owner):
    """A small data model: two stages, a role, three typed attributes."""
    Stage.objects.create(workspace=workspace, name="Onboarding", position=1)
    Stage.objects.create(workspace=workspace, name="Adoption", position=2)
    AssignmentRole.objects.create(
        workspace=workspace, key="success_manager", name="Success Manager"
    )
    AttributeDefinition.objects.create(
        workspace=workspace,
        key="plan",
        label="Plan",
        type=AttributeType.ENUM,
        options=["basic", "pro"],
    )
    AttributeDefinition.objects.create(
        workspace=workspace, key="seats", label="Seats", type=AttributeType.NUMBER
    )
    AttributeDefinition.objects.create(
        workspace=workspace, key="renewal", label="Renewal", type=AttributeType.DATE
    )
    return workspace


def post(client, url, data, **extra):
    return client.post(url, data, content_type="application/json", **extra)


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def test_it_creates_an_account_with_every_field(owner, model):
    parent = Account.objects.create(workspace=model, external_id="group", name="Group")
    response = post(
        owner.api,
        URL,
        {
            "external_id": "acme",
            "name": "Acme",
            "status": "paying",
            "parent_external_id": "group",
            "stage": "Onboarding",
            "tags": ["vip", "emea"],
            "attributes": {"plan": "pro", "seats": "40", "renewal": "2027-01-31"},
            "assignments": {"success_manager": "OWNER@acme.test"},
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["external_id"] == "acme"
    assert body["status"] == "paying"
    assert body["parent_external_id"] == "group"
    assert body["stage"] == "Onboarding"
    assert body["days_in_stage"] == 0
    assert body["stage_entered_at"] is not None
    assert body["tags"] == ["emea", "vip"]
    assert body["attributes"] == {"plan": "pro", "seats": 40, "renewal": "2027-01-31"}
    assert body["assignments"] == {"success_manager": "owner@acme.test"}
    account = Account.objects.get(pk=body["id"])
    assert account.parent == parent
    assert StageChange.objects.filter(account=account, source="api").count() == 1


def test_it_gets_one_account(owner, model):
    account = Account.objects.create(
        workspace=model, external_id="a1", name="A1", attributes={"plan": "basic"}
    )
    response = owner.api.get(f"{URL}/{account.pk}")
    assert response.status_code == 200
    assert response.json()["attributes"] == {"plan": "basic"}
    assert response.json()["parent_external_id"] is None


def test_it_patches_only_the_fields_sent(owner, model):
    account = Account.objects.create(
        workspace=model,
        external_id="a1",
        name="A1",
        status="trial",
        attributes={"plan": "basic", "seats": 3},
    )
    response = patch(
        owner.api, f"{URL}/{account.pk}", {"status": "paying", "attributes": {"seats": None}}
    )
    assert response.status_code == 200, response.json()
    account.refresh_from_db()
    assert account.status == "paying"
    assert account.name == "A1"
    assert account.attributes == {"plan": "basic"}


def test_it_deletes_an_account(owner, model):
    account = Account.objects.create(workspace=model, external_id="a1", name="A1")
    response = owner.api.delete(f"{URL}/{account.pk}")
    assert response.status_code == 204
    assert not Account.objects.filter(pk=account.pk).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"external_id": "x", "name": "X", "attributes": {"colour": "red"}}, "attributes.colour"),
        ({"external_id": "x", "name": "X", "attributes": {"seats": "many"}}, "attributes.seats"),
        ({"external_id": "x", "name": "X", "attributes": {"plan": "gold"}}, "attributes.plan"),
        ({"external_id": "x", "name": "X", "stage": "Nowhere"}, "stage"),
        ({"external_id": "x", "name": "X", "status": "lapsed"}, "status"),
        ({"external_id": "x", "name": "X", "parent_external_id": "ghost"}, "parent_external_id"),
        (
            {"external_id": "x", "name": "X", "assignments": {"ghost_role": None}},
            "assignments.ghost_role",
        ),
        (
            {"external_id": "x", "name": "X", "assignments": {"success_manager": "no@one.test"}},
            "assignments.success_manager",
        ),
        ({"external_id": "x", "name": 5}, "name"),
        ({"name": "X"}, "external_id"),
        ({"external_id": "x", "name": "X", "colour": "red"}, "colour"),
    ],
)
def test_it_rejects_bad_input_naming_the_field(owner, model, payload, field):
    response = post(owner.api, URL, payload)
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == field
    assert body["detail"]
    assert not Account.objects.filter(workspace=model).exists()


def test_it_rejects_a_duplicate_external_id(owner, model):
    Account.objects.create(workspace=model, external_id="a1", name="A1")
    response = post(owner.api, URL, {"external_id": "a1", "name": "Again"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "external_id"


def test_it_rejects_a_parent_that_makes_a_cycle(owner, model):
    top = Account.objects.create(workspace=model, external_id="top", name="Top")
    middle = Account.objects.create(workspace=model, external_id="mid", name="Mid", parent=top)
    Account.objects.create(workspace=model, external_id="low", name="Low", parent=middle)
    response = patch(owner.api, f"{URL}/{top.pk}", {"parent_external_id": "low"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "parent_external_id"
    top.refresh_from_db()
    assert top.parent_id is None


# --- listing --------------------------------------------------------------------------------


def test_cursor_pagination_walks_every_row_once_without_a_cap(owner, workspace):
    Account.objects.bulk_create(
        [
            Account(workspace=workspace, external_id=f"acc-{n:05d}", name=f"Account {n}")
            for n in range(2500)
        ]
    )
    seen, cursor, pages = [], None, 0
    while True:
        response = owner.api.get(URL, {"limit": 1000, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200
        body = response.json()
        seen.extend(item["external_id"] for item in body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == 2500
    assert len(set(seen)) == 2500


def test_the_default_page_is_100_and_the_maximum_1000(owner, workspace):
    Account.objects.bulk_create(
        [
            Account(workspace=workspace, external_id=f"acc-{n}", name=f"Account {n}")
            for n in range(150)
        ]
    )
    assert len(owner.api.get(URL).json()["items"]) == 100
    response = owner.api.get(URL, {"limit": 1001})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limit"


def test_a_forged_cursor_is_refused_naming_the_field(owner, workspace):
    response = owner.api.get(URL, {"cursor": "not-a-cursor!"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


def test_external_id_filter_is_exact_and_case_sensitive(owner, workspace):
    Account.objects.create(workspace=workspace, external_id="ACME", name="Upper")
    Account.objects.create(workspace=workspace, external_id="acme", name="Lower")
    items = owner.api.get(URL, {"external_id": "acme"}).json()["items"]
    assert [i["name"] for i in items] == ["Lower"]
    items = owner.api.get(URL, {"external_id": "ACME"}).json()["items"]
    assert [i["name"] for i in items] == ["Upper"]


def test_filters_narrow_the_list(owner, model):
    onboarding = Stage.objects.get(workspace=model, name="Onboarding")
    role = AssignmentRole.objects.get(workspace=model)
    vip = Tag.objects.create(workspace=model, name="vip")
    parent = Account.objects.create(workspace=model, external_id="p", name="Parent")
    a = Account.objects.create(
        workspace=model,
        external_id="a",
        name="Alpha Corp",
        status="paying",
        stage=onboarding,
        parent=parent,
    )
    b = Account.objects.create(workspace=model, external_id="b", name="Beta Ltd", status="churned")
    AccountTag.objects.create(account=a, tag=vip)
    Assignment.objects.create(workspace=model, account=b, role=role, member=owner.member)
    Account.objects.filter(pk=parent.pk).update(
        updated_at=timezone.now() - timezone.timedelta(days=30)
    )

    def names(**params):
        response = owner.api.get(URL, params)
        assert response.status_code == 200, response.json()
        return sorted(i["name"] for i in response.json()["items"])

    assert names(status="paying") == ["Alpha Corp"]
    assert names(stage="Onboarding") == ["Alpha Corp"]
    assert names(tag="vip") == ["Alpha Corp"]
    assert names(owner="owner@acme.test") == ["Beta Ltd"]
    assert names(q="beta") == ["Beta Ltd"]
    assert names(parent_external_id="p") == ["Alpha Corp"]
    since = (timezone.now() - timezone.timedelta(days=1)).isoformat()
    assert names(updated_since=since) == ["Alpha Corp", "Beta Ltd"]


def test_listing_costs_a_fixed_number_of_queries(owner, model, django_assert_max_num_queries):
    role = AssignmentRole.objects.get(workspace=model)
    stage = Stage.objects.get(workspace=model, name="Adoption")
    tags = [Tag.objects.create(workspace=model, name=f"t{n}") for n in range(3)]
    parent = Account.objects.create(workspace=model, external_id="parent", name="Parent")
    for n in range(60):
        account = Account.objects.create(
            workspace=model, external_id=f"a{n}", name=f"A{n}", stage=stage, parent=parent
        )
        AccountTag.objects.bulk_create([AccountTag(account=account, tag=t) for t in tags])
        Assignment.objects.create(workspace=model, account=account, role=role, member=owner.member)
    owner.api.get(URL)  # the token's last-used time is written once a minute, not per call
    with django_assert_max_num_queries(6):
        response = owner.api.get(URL, {"limit": 1000})
    assert len(response.json()["items"]) == 61
    first = next(i for i in response.json()["items"] if i["external_id"] == "a0")
    assert first["tags"] == ["t0", "t1", "t2"]
    assert first["assignments"] == {"success_manager": "owner@acme.test"}


# --- access -----------------------------------------------------------------------------------


def test_the_outsider_gets_404_and_changes_nothing(outsider, owner, model):
    account = Account.objects.create(workspace=model, external_id="a1", name="A1", status="trial")
    assert outsider.api.get(f"{URL}/{account.pk}").status_code == 404
    assert patch(outsider.api, f"{URL}/{account.pk}", {"name": "Hacked"}).status_code == 404
    assert outsider.api.delete(f"{URL}/{account.pk}").status_code == 404
    assert outsider.api.get(URL).json()["items"] == []
    account.refresh_from_db()
    assert account.name == "A1"


def test_a_viewer_cannot_write(viewer, model):
    account = Account.objects.create(workspace=model, external_id="a1", name="A1")
    for client in (viewer.api, viewer.browser):
        assert post(client, URL, {"external_id": "new", "name": "New"}).status_code == 403
        assert patch(client, f"{URL}/{account.pk}", {"name": "Changed"}).status_code == 403
        assert client.delete(f"{URL}/{account.pk}").status_code == 403
    assert viewer.api.get(f"{URL}/{account.pk}").status_code == 200
    account.refresh_from_db()
    assert account.name == "A1"
    assert Account.objects.filter(workspace=model).count() == 1


def test_a_contributor_edits_only_the_accounts_assigned_to_them(contributor, model):
    role = AssignmentRole.objects.get(workspace=model)
    mine = Account.objects.create(workspace=model, external_id="mine", name="Mine")
    theirs = Account.objects.create(workspace=model, external_id="theirs", name="Theirs")
    Assignment.objects.create(workspace=model, account=mine, role=role, member=contributor.member)
    assert (
        patch(contributor.browser, f"{URL}/{mine.pk}", {"name": "Mine, renamed"}).status_code == 200
    )
    assert patch(contributor.browser, f"{URL}/{theirs.pk}", {"name": "Nope"}).status_code == 403
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.name, theirs.name) == ("Mine, renamed", "Theirs")
