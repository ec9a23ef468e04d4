"""PUT /api/v1/accounts: bulk upsert keyed by external id, with per-item results."""

import orjson
import pytest

from tend.accounts.bulk import upsert_accounts
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
def model(workspace):
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
    return workspace


def put(client, items):
    return client.put(URL, orjson.dumps(items), content_type="application/json")


def results_by_key(response):
    assert response.status_code == 200, response.content[:500]
    return {r["external_id"]: r for r in response.json()["results"]}


@pytest.mark.slow
def test_ten_thousand_accounts_upserted_twice_make_no_duplicates(owner, model):
    items = [
        {
            "external_id": f"acc-{n:05d}",
            "name": f"Account {n}",
            "status": "paying" if n % 2 else "trial",
            "stage": "Onboarding" if n % 3 else None,
            "attributes": {"plan": "pro" if n % 2 else "basic", "seats": n},
            "tags": ["vip"] if n % 10 == 0 else [],
        }
        for n in range(10_000)
    ]
    first = put(owner.api, items)
    assert first.status_code == 200
    assert first.json()["counts"] == {"created": 10_000, "updated": 0, "unchanged": 0, "error": 0}
    changes = StageChange.objects.filter(workspace=model).count()
    stamps = dict(Account.objects.filter(workspace=model).values_list("external_id", "updated_at"))

    second = put(owner.api, items)
    assert second.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 10_000, "error": 0}
    assert {r["status"] for r in second.json()["results"]} == {"unchanged"}
    assert Account.objects.filter(workspace=model).count() == 10_000
    assert AccountTag.objects.filter(account__workspace=model).count() == 1_000
    assert StageChange.objects.filter(workspace=model).count() == changes
    assert (
        dict(Account.objects.filter(workspace=model).values_list("external_id", "updated_at"))
        == stamps
    )
    ids = [r["id"] for r in first.json()["results"]]
    assert ids == [r["id"] for r in second.json()["results"]]


def test_it_reports_created_updated_and_unchanged_per_item(owner, model):
    Account.objects.create(workspace=model, external_id="same", name="Same", status="trial")
    Account.objects.create(workspace=model, external_id="old", name="Old", status="trial")
    response = put(
        owner.api,
        [
            {"external_id": "new", "name": "New"},
            {"external_id": "old", "name": "Old", "status": "paying"},
            {"external_id": "same", "name": "Same"},
        ],
    )
    results = results_by_key(response)
    assert [r["status"] for r in response.json()["results"]] == ["created", "updated", "unchanged"]
    assert [r["index"] for r in response.json()["results"]] == [0, 1, 2]
    assert Account.objects.get(external_id="old").status == "paying"
    assert results["new"]["id"] == Account.objects.get(external_id="new").pk
    assert response.json()["counts"] == {"created": 1, "updated": 1, "unchanged": 1, "error": 0}


def test_items_with_errors_are_not_written_and_the_rest_are(owner, model):
    Account.objects.create(workspace=model, external_id="a", name="A", parent=None)
    Account.objects.create(
        workspace=model, external_id="b", name="B", parent=Account.objects.get(external_id="a")
    )
    items = [
        {"external_id": "ok", "name": "Fine", "attributes": {"plan": "pro"}},
        {"external_id": "unknown-attr", "name": "X", "attributes": {"colour": "red"}},
        {"external_id": "wrong-type", "name": "X", "attributes": {"seats": "lots"}},
        {"external_id": "dup", "name": "First"},
        {"external_id": "dup", "name": "Second"},
        {"external_id": "orphan", "name": "X", "parent_external_id": "ghost"},
        {"external_id": "a", "name": "A", "parent_external_id": "b"},
        {"external_id": "lost", "name": "X", "stage": "Nowhere"},
        {"external_id": "norole", "name": "X", "assignments": {"ghost": "owner@acme.test"}},
        {"external_id": "nomember", "name": "X", "assignments": {"success_manager": "no@one.test"}},
        {"external_id": "badstatus", "name": "X", "status": "lapsed"},
        {"external_id": "noname"},
        "not an object",
        {"name": "no key"},
    ]
    response = put(owner.api, items)
    body = response.json()
    assert response.status_code == 200
    fields = {r["index"]: [e["field"] for e in r.get("errors", [])] for r in body["results"]}
    assert body["results"][0]["status"] == "created"
    assert fields[1] == ["attributes.colour"]
    assert fields[2] == ["attributes.seats"]
    assert fields[3] == ["external_id"] and "index 4" in body["results"][3]["errors"][0]["message"]
    assert fields[4] == ["external_id"] and "index 3" in body["results"][4]["errors"][0]["message"]
    assert fields[5] == ["parent_external_id"]
    assert (
        fields[6] == ["parent_external_id"]
        and "cycle" in body["results"][6]["errors"][0]["message"]
    )
    assert fields[7] == ["stage"]
    assert fields[8] == ["assignments.ghost"]
    assert fields[9] == ["assignments.success_manager"]
    assert fields[10] == ["status"]
    assert fields[11] == ["name"]
    assert fields[12] == ["item"]
    assert fields[13] == ["external_id"]
    assert body["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "error": 13}
    assert set(Account.objects.filter(workspace=model).values_list("external_id", flat=True)) == {
        "a",
        "b",
        "ok",
    }
    assert Account.objects.get(external_id="a").parent_id is None


def test_parents_may_be_created_in_the_same_request_in_any_order(owner, model):
    response = put(
        owner.api,
        [
            {"external_id": "grandchild", "name": "GC", "parent_external_id": "child"},
            {"external_id": "child", "name": "C", "parent_external_id": "root"},
            {"external_id": "root", "name": "R"},
        ],
    )
    assert response.json()["counts"]["created"] == 3
    child = Account.objects.get(external_id="child")
    assert Account.objects.get(external_id="grandchild").parent == child
    assert child.parent.external_id == "root"


def test_a_cycle_among_new_items_fails_them_and_their_children(owner, model):
    response = put(
        owner.api,
        [
            {"external_id": "x", "name": "X", "parent_external_id": "y"},
            {"external_id": "y", "name": "Y", "parent_external_id": "x"},
            {"external_id": "z", "name": "Z", "parent_external_id": "x"},
            {"external_id": "self", "name": "S", "parent_external_id": "self"},
        ],
    )
    assert [r["status"] for r in response.json()["results"]] == ["error"] * 4
    assert not Account.objects.filter(workspace=model).exists()


def test_a_stage_change_writes_history_and_only_then(owner, model):
    put(owner.api, [{"external_id": "a", "name": "A", "stage": "Onboarding"}])
    account = Account.objects.get(external_id="a")
    entered = account.stage_entered_at
    assert StageChange.objects.filter(account=account).count() == 1
    put(owner.api, [{"external_id": "a", "name": "A", "stage": "Onboarding"}])
    account.refresh_from_db()
    assert account.stage_entered_at == entered
    response = put(owner.api, [{"external_id": "a", "stage": "Adoption"}])
    assert response.json()["results"][0]["status"] == "updated"
    change = StageChange.objects.filter(account=account).first()
    assert (change.from_stage.name, change.to_stage.name, change.source) == (
        "Onboarding",
        "Adoption",
        "api",
    )
    account.refresh_from_db()
    assert account.stage.name == "Adoption"
    assert account.stage_entered_at > entered


def test_tags_and_assignments_are_synced(owner, practitioner, model):
    Tag.objects.create(workspace=model, name="old")
    put(
        owner.api,
        [
            {
                "external_id": "a",
                "name": "A",
                "tags": ["old", "keep"],
                "assignments": {"success_manager": "owner@acme.test"},
            }
        ],
    )
    account = Account.objects.get(external_id="a")
    assert set(account.tags.values_list("name", flat=True)) == {"old", "keep"}
    response = put(
        owner.api,
        [
            {
                "external_id": "a",
                "tags": ["keep", "new"],
                "assignments": {"success_manager": "practitioner@acme.test"},
            }
        ],
    )
    assert response.json()["results"][0]["status"] == "updated"
    assert set(account.tags.values_list("name", flat=True)) == {"keep", "new"}
    assert Assignment.objects.get(account=account).member == practitioner.member
    response = put(owner.api, [{"external_id": "a", "assignments": {"success_manager": None}}])
    assert response.json()["results"][0]["status"] == "updated"
    assert not Assignment.objects.filter(account=account).exists()
    response = put(
        owner.api,
        [{"external_id": "a", "tags": ["new", "keep"], "assignments": {"success_manager": None}}],
    )
    assert response.json()["results"][0]["status"] == "unchanged"


def test_the_upsert_function_is_usable_without_http(owner, model):
    result = upsert_accounts(owner.actor, [{"external_id": "a", "name": "A"}], source="demo")
    assert result.counts["created"] == 1
    assert result.results[0]["status"] == "created"


def test_read_only_fields_echoed_from_a_get_are_ignored(owner, model):
    put(owner.api, [{"external_id": "a", "name": "A", "attributes": {"plan": "pro"}}])
    account = owner.api.get(URL, {"external_id": "a"}).json()["items"][0]
    response = put(owner.api, [account])
    assert response.json()["results"][0]["status"] == "unchanged"


def test_a_body_that_is_not_an_array_is_refused_whole(owner, model):
    response = owner.api.put(URL, b'{"external_id": "a"}', content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"


def test_more_items_than_the_limit_are_refused_whole(owner, model, settings):
    settings.TEND_BULK_MAX_ITEMS = 3
    response = put(owner.api, [{"external_id": str(n), "name": "N"} for n in range(4)])
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"
    assert not Account.objects.filter(workspace=model).exists()


def test_a_viewer_and_a_read_token_cannot_upsert(viewer, model):
    for client in (viewer.api, viewer.browser):
        response = put(client, [{"external_id": "a", "name": "A"}])
        assert response.status_code == 403
    assert not Account.objects.filter(workspace=model).exists()


def test_the_outsider_upserts_into_their_own_workspace_only(outsider, owner, model):
    Account.objects.create(workspace=model, external_id="shared-key", name="Ours")
    response = put(outsider.api, [{"external_id": "shared-key", "name": "Theirs"}])
    assert response.json()["results"][0]["status"] == "created"
    assert Account.objects.get(workspace=model, external_id="shared-key").name == "Ours"


def test_a_long_chain_of_new_parents_in_one_request_is_created(owner, model):
    items = [
        {"external_id": f"n{n}", "name": f"N{n}", "parent_external_id": f"n{n - 1}" if n else None}
        for n in range(1500)
    ]
    items.reverse()
    response = put(owner.api, items)
    assert response.json()["counts"]["created"] == 1500
    parents = dict(
        Account.objects.filter(workspace=model).values_list("external_id", "parent__external_id")
    )
    assert parents["n1499"] == "n1498"
    assert parents["n0"] is None
