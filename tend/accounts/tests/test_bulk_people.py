"""PUT /api/v1/users and /api/v1/contacts: bulk upsert keyed by external id."""

import orjson

from tend.accounts.models import (
    Account,
    AttributeDefinition,
    AttributeType,
    Contact,
    EndUser,
    ObjectType,
)


def put(client, url, items):
    return client.put(url, orjson.dumps(items), content_type="application/json")


def test_end_users_upserted_twice_make_no_duplicates(owner, workspace):
    Account.objects.create(workspace=workspace, external_id="acme", name="Acme")
    AttributeDefinition.objects.create(
        workspace=workspace,
        object_type=ObjectType.USER,
        key="logins",
        label="Logins",
        type=AttributeType.NUMBER,
    )
    items = [
        {
            "external_id": f"u{n}",
            "account_external_id": "acme",
            "email": f"u{n}@acme.test",
            "attributes": {"logins": n},
        }
        for n in range(2000)
    ]
    first = put(owner.api, "/api/v1/users", items)
    assert first.json()["counts"] == {"created": 2000, "updated": 0, "unchanged": 0, "error": 0}
    second = put(owner.api, "/api/v1/users", items)
    assert second.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 2000, "error": 0}
    items[5]["name"] = "Renamed"
    third = put(owner.api, "/api/v1/users", items)
    assert third.json()["counts"]["updated"] == 1
    assert third.json()["results"][5]["status"] == "updated"
    assert EndUser.objects.filter(workspace=workspace).count() == 2000
    assert EndUser.objects.get(external_id="u5").name == "Renamed"


def test_people_items_with_errors_are_not_written(owner, workspace):
    Account.objects.create(workspace=workspace, external_id="acme", name="Acme")
    response = put(
        owner.api,
        "/api/v1/contacts",
        [
            {"external_id": "c1", "account_external_id": "acme", "name": "Carl"},
            {"external_id": "c2", "account_external_id": "ghost", "name": "Ghost"},
            {"external_id": "c3", "account_external_id": "acme"},
            {
                "external_id": "c4",
                "account_external_id": "acme",
                "name": "D",
                "attributes": {"x": 1},
            },
            {"external_id": "c1", "account_external_id": "acme", "name": "Twin"},
        ],
    )
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["error", "error", "error", "error", "error"]
    assert results[1]["errors"][0]["field"] == "account_external_id"
    assert results[2]["errors"][0]["field"] == "name"
    assert results[3]["errors"][0]["field"] == "attributes.x"
    assert "index 4" in results[0]["errors"][0]["message"]
    assert not Contact.objects.exists()


def test_a_viewer_cannot_upsert_people(viewer, workspace):
    assert put(viewer.api, "/api/v1/users", [{"external_id": "u"}]).status_code == 403
    assert put(viewer.browser, "/api/v1/contacts", [{"external_id": "c"}]).status_code == 403
    assert not EndUser.objects.exists()
