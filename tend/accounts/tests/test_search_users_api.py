"""POST /api/v1/users/search: end users by condition over their own fields, their account
and their attributes, paged by cursor like accounts."""

import orjson
import pytest

from tend.accounts.models import Account, AttributeDefinition, AttributeType, EndUser, ObjectType
from tend.accounts.user_conditions import user_catalog

URL = "/api/v1/users/search"
pytestmark = pytest.mark.django_db


def search(client, body):
    response = client.post(URL, orjson.dumps(body), content_type="application/json")
    return response, orjson.loads(response.content)


@pytest.fixture
def users(workspace):
    AttributeDefinition.objects.create(
        workspace=workspace,
        object_type=ObjectType.USER,
        key="role",
        label="Role",
        type=AttributeType.TEXT,
    )
    # An account attribute of the same key is not a user field.
    AttributeDefinition.objects.create(
        workspace=workspace, key="plan", label="Plan", type=AttributeType.TEXT
    )
    acme = Account.objects.create(
        workspace=workspace, external_id="acme", name="Acme", status="paying"
    )
    globex = Account.objects.create(
        workspace=workspace, external_id="globex", name="Globex", status="trial"
    )
    return [
        EndUser.objects.create(
            workspace=workspace, external_id="u1", email="ann@acme.test", name="Ann", account=acme,
            attributes={"role": "admin"},
        ),
        EndUser.objects.create(workspace=workspace, external_id="u2", email="bo@globex.test", name="Bo", account=globex),
        EndUser.objects.create(workspace=workspace, external_id="u3", email="", name="", account=None),
    ]  # fmt: skip


def test_the_user_catalog_has_the_users_fields_not_the_accounts(workspace, users):
    catalog = user_catalog(workspace)
    assert {"external_id", "email", "name", "account", "account.status", "attributes.role"} <= set(
        catalog
    )
    assert "attributes.plan" not in catalog and "tags" not in catalog


def test_it_finds_users_by_their_account_and_attributes(owner, users):
    response, data = search(
        owner.api,
        {
            "where": {"any": [{"field": "account.status", "op": "eq", "value": "paying"},
                              {"field": "account", "op": "is_not_set"}]},
            "fields": ["account", "account.name", "attributes.role"],
            "sort": ["-email"],
        },
    )  # fmt: skip
    assert response.status_code == 200, data
    assert data["items"] == [
        {"id": users[0].pk, "external_id": "u1", "email": "ann@acme.test", "name": "Ann",
         "account": "acme", "account.name": "Acme", "attributes.role": "admin"},
        {"id": users[2].pk, "external_id": "u3", "email": "", "name": "",
         "account": None, "account.name": None, "attributes.role": None},
    ]  # fmt: skip


def test_users_page_by_cursor(owner, users):
    EndUser.objects.bulk_create(
        EndUser(workspace=owner.workspace, external_id=f"bulk-{i}", email=f"p{i:03d}@x.test")
        for i in range(20)
    )
    seen, cursor = [], None
    while True:
        _r, data = search(owner.api, {"sort": ["email"], "limit": 7, "cursor": cursor})
        seen += [item["external_id"] for item in data["items"]]
        cursor = data["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 23
    assert seen[0] == "u3"  # empty text sorts first: it is text, not a missing value


def test_an_account_field_is_unknown_to_the_users_search(owner, users):
    response, data = search(owner.api, {"fields": ["tags"]})
    assert response.status_code == 422
    assert data["errors"][0]["field"] == "fields.0"


def test_an_outsider_finds_none_of_our_users(outsider, users):
    _r, data = search(outsider.api, {})
    assert data == {"items": [], "next_cursor": None}
