"""REST endpoints for attribute definitions, stages, roles and tags."""

import json

import pytest

from tend.accounts.actions import definitions as actions
from tend.accounts.models import Account, AttributeDefinition, Stage, Tag


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def test_an_admin_token_creates_reads_changes_and_deletes_an_attribute(owner, workspace):
    response = post(
        owner.api,
        "/api/v1/attributes",
        {"key": "plan", "label": "Plan", "type": "enum", "options": ["Gold"]},
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert (
        created["key"] == "plan"
        and created["options"] == ["Gold"]
        and created["object_type"] == "account"
    )

    url = f"/api/v1/attributes/{created['id']}"
    assert owner.api.get(url).json()["label"] == "Plan"
    changed = patch(owner.api, url, {"label": "Plan tier", "options": ["Gold", "Silver"]})
    assert changed.status_code == 200
    assert changed.json()["options"] == ["Gold", "Silver"]

    Account.objects.create(
        workspace=workspace, external_id="a", name="A", attributes={"plan": "Gold"}
    )
    assert owner.api.delete(url).status_code == 204
    assert Account.objects.get().attributes == {}
    assert owner.api.get(url).status_code == 404


def test_bad_attribute_input_gets_422_naming_the_field(owner):
    post(owner.api, "/api/v1/attributes", {"key": "plan", "label": "Plan"})
    response = post(owner.api, "/api/v1/attributes", {"key": "plan", "label": "Plan"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "key"
    response = post(
        owner.api, "/api/v1/attributes", {"key": "tier", "label": "Tier", "type": "enum"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "options"


def test_lists_filter_and_page_with_a_cursor(owner, workspace, django_assert_max_num_queries):
    for n in range(5):
        actions.create_attribute(owner.actor, {"key": f"a{n}", "label": f"A{n}"})
    actions.create_attribute(owner.actor, {"key": "seats", "label": "Seats", "object_type": "user"})

    with django_assert_max_num_queries(6):
        first = owner.api.get("/api/v1/attributes", {"object_type": "account", "limit": 3}).json()
    assert [a["key"] for a in first["items"]] == ["a0", "a1", "a2"]
    second = owner.api.get(
        "/api/v1/attributes", {"object_type": "account", "limit": 3, "cursor": first["next_cursor"]}
    ).json()
    assert [a["key"] for a in second["items"]] == ["a3", "a4"]
    assert second["next_cursor"] is None
    only = owner.api.get("/api/v1/attributes", {"key": "seats"}).json()["items"]
    assert [a["object_type"] for a in only] == ["user"]
    assert owner.api.get("/api/v1/attributes", {"cursor": "garbage!"}).status_code == 422


def test_stages_list_in_journey_order_and_move_with_patch(owner):
    ids = [
        post(owner.api, "/api/v1/stages", {"name": name}).json()["id"] for name in ("A", "B", "C")
    ]
    response = patch(owner.api, f"/api/v1/stages/{ids[2]}", {"position": 0})
    assert response.status_code == 200 and response.json()["position"] == 0
    items = owner.api.get("/api/v1/stages").json()["items"]
    assert [s["name"] for s in items] == ["C", "A", "B"]
    assert [s["name"] for s in owner.api.get("/api/v1/stages", {"name": "B"}).json()["items"]] == [
        "B"
    ]
    assert owner.api.delete(f"/api/v1/stages/{ids[0]}").status_code == 204


def test_roles_crud(owner):
    response = post(owner.api, "/api/v1/roles", {"key": "csm", "name": "CSM"})
    assert response.status_code == 201
    url = f"/api/v1/roles/{response.json()['id']}"
    assert (
        patch(owner.api, url, {"name": "Customer Success Manager"}).json()["name"]
        == "Customer Success Manager"
    )
    assert owner.api.get("/api/v1/roles", {"key": "csm"}).json()["items"][0]["key"] == "csm"
    assert owner.api.delete(url).status_code == 204


def test_a_write_token_manages_tags_but_not_definitions(practitioner):
    response = post(practitioner.api, "/api/v1/tags", {"name": "VIP"})
    assert response.status_code == 201
    tag_id = response.json()["id"]
    assert (
        patch(practitioner.api, f"/api/v1/tags/{tag_id}", {"name": "Strategic"}).json()["name"]
        == "Strategic"
    )
    assert (
        practitioner.api.get("/api/v1/tags", {"name": "Strategic"}).json()["items"][0]["id"]
        == tag_id
    )
    assert post(practitioner.api, "/api/v1/stages", {"name": "A"}).status_code == 403
    assert (
        post(practitioner.api, "/api/v1/attributes", {"key": "plan", "label": "Plan"}).status_code
        == 403
    )
    assert practitioner.api.delete(f"/api/v1/tags/{tag_id}").status_code == 204


def test_a_read_token_reads_but_cannot_write(viewer, owner):
    stage = actions.create_stage(owner.actor, {"name": "A"})
    assert viewer.api.get("/api/v1/stages").status_code == 200
    assert viewer.api.get(f"/api/v1/stages/{stage.pk}").status_code == 200
    assert patch(viewer.api, f"/api/v1/stages/{stage.pk}", {"name": "B"}).status_code == 403
    assert viewer.api.delete(f"/api/v1/stages/{stage.pk}").status_code == 403
    assert post(viewer.api, "/api/v1/tags", {"name": "VIP"}).status_code == 403
    stage.refresh_from_db()
    assert stage.name == "A"


@pytest.mark.parametrize("kind", ["attributes", "stages", "roles", "tags"])
def test_an_outsider_gets_404_and_changes_nothing(owner, outsider, kind):
    create = {
        "attributes": lambda: actions.create_attribute(
            owner.actor, {"key": "plan", "label": "Plan"}
        ),
        "stages": lambda: actions.create_stage(owner.actor, {"name": "A"}),
        "roles": lambda: actions.create_role(owner.actor, {"key": "csm", "name": "CSM"}),
        "tags": lambda: actions.create_tag(owner.actor, {"name": "VIP"}),
    }[kind]
    obj = create()
    url = f"/api/v1/{kind}/{obj.pk}"
    assert outsider.api.get(url).status_code == 404
    assert patch(outsider.api, url, {"name": "Hacked", "label": "Hacked"}).status_code == 404
    assert outsider.api.delete(url).status_code == 404
    assert outsider.api.get(f"/api/v1/{kind}").json()["items"] == []
    model = type(obj)
    assert model.objects.filter(pk=obj.pk).exists()
    assert not model.objects.filter(
        **{("label" if model is AttributeDefinition else "name"): "Hacked"}
    ).exists()


def test_an_ingest_only_token_cannot_read_definitions(workspace):
    from tend.test import make_token, token_client

    client = token_client(make_token(workspace, ("ingest",)))
    assert client.get("/api/v1/tags").status_code == 403


def test_requests_without_a_token_get_401(db):
    from django.test import Client

    assert Client().get("/api/v1/stages").status_code == 401
    assert Stage.objects.count() == 0 and Tag.objects.count() == 0
