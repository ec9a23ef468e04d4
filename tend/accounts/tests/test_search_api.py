"""POST /api/v1/accounts/search: conditions, chosen fields, sorts with missing values last,
and signed keyset cursors that page through any number of accounts — through the real
HTTP stack, on SQLite and PostgreSQL."""

import datetime

import orjson
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
    Tag,
)
from tend.test import make_token

URL = "/api/v1/accounts/search"
pytestmark = pytest.mark.django_db


def search(client, body=None, url=URL):
    response = client.post(url, orjson.dumps(body or {}), content_type="application/json")
    return response, orjson.loads(response.content)


def page_through(client, body, limit):
    """Every item of every page, and the number of pages."""
    items, cursor, pages = [], None, 0
    while True:
        response, data = search(client, {**body, "limit": limit, "cursor": cursor})
        assert response.status_code == 200, data
        items += data["items"]
        pages += 1
        cursor = data["next_cursor"]
        if cursor is None:
            return items, pages


def bulk_accounts(workspace, n, start=0, **fields):
    Account.objects.bulk_create(
        (
            Account(
                workspace=workspace, external_id=f"acct-{i:05d}", name=f"Company {i:05d}", **fields
            )
            for i in range(start, start + n)
        ),
        batch_size=2000,
    )


@pytest.fixture
def model(workspace):
    """Typed attributes, two stages, a role and a tag."""
    for key, kind, options in [
        ("plan", AttributeType.ENUM, ["basic", "pro", "enterprise"]),
        ("seats", AttributeType.NUMBER, []),
        ("renewal", AttributeType.DATE, []),
        ("code", AttributeType.TEXT, []),
        ("onboarded", AttributeType.BOOLEAN, []),
        ("features", AttributeType.MULTI_ENUM, ["sso", "api"]),
    ]:
        AttributeDefinition.objects.create(
            workspace=workspace, key=key, label=key.title(), type=kind, options=options
        )
    Stage.objects.create(workspace=workspace, name="Onboarding", position=1)
    Stage.objects.create(workspace=workspace, name="Adoption", position=2)
    AssignmentRole.objects.get_or_create(
        workspace=workspace, key="success_manager", defaults={"name": "Success Manager"}
    )
    Tag.objects.create(workspace=workspace, name="vip")
    return workspace


@pytest.fixture
def accounts(model, owner):
    """acme: paying, enterprise, 40 seats, Adoption for 3 days, vip, the owner as CSM.
    globex: trial, pro, 5 seats, text code "123" (looks like a number), no stage.
    initech: churned, seats held as text (a value of another type counts as missing).
    umbrella: free, no attributes at all."""
    now = timezone.now()
    adoption = Stage.objects.get(workspace=model, name="Adoption")
    acme = Account.objects.create(
        workspace=model,
        external_id="acme",
        name="Acme",
        status="paying",
        stage=adoption,
        stage_entered_at=now - datetime.timedelta(days=3, hours=1),
        attributes={
            "plan": "enterprise",
            "seats": 40,
            "renewal": "2026-03-01",
            "onboarded": True,
            "features": ["sso", "api"],
        },
    )
    globex = Account.objects.create(
        workspace=model,
        external_id="globex",
        name="Globex",
        status="trial",
        attributes={"plan": "pro", "seats": 5, "code": "123", "onboarded": False},
    )
    initech = Account.objects.create(
        workspace=model,
        external_id="initech",
        name="Initech",
        status="churned",
        attributes={"seats": "lots"},
    )
    umbrella = Account.objects.create(
        workspace=model, external_id="umbrella", name="Umbrella", status="free"
    )
    AccountTag.objects.create(account=acme, tag=Tag.objects.get(workspace=model, name="vip"))
    role = AssignmentRole.objects.get(workspace=model, key="success_manager")
    Assignment.objects.create(workspace=model, account=acme, role=role, member=owner.member)
    return {"acme": acme, "globex": globex, "initech": initech, "umbrella": umbrella}


# --- conditions and fields -------------------------------------------------------------------


def test_it_finds_the_accounts_a_condition_matches_with_the_fields_asked_for(owner, accounts):
    response, data = search(
        owner.api,
        {
            "where": {"any": [{"field": "status", "op": "eq", "value": "paying"},
                              {"field": "attributes.seats", "op": "lt", "value": 10}]},
            "fields": ["status", "stage", "days_in_stage", "tags", "attributes.plan", "attributes.seats",
                       "attributes.renewal", "attributes.onboarded", "attributes.features",
                       "owner.success_manager", "created_at"],
        },
    )  # fmt: skip
    assert response.status_code == 200, data
    assert data["next_cursor"] is None
    acme, globex = data["items"]
    assert {
        k: acme[k] for k in ("id", "external_id", "name", "status", "stage", "days_in_stage")
    } == {
        "id": accounts["acme"].pk,
        "external_id": "acme",
        "name": "Acme",
        "status": "paying",
        "stage": "Adoption",
        "days_in_stage": 3,
    }
    assert acme["tags"] == ["vip"]
    assert acme["attributes.plan"] == "enterprise"
    assert acme["attributes.seats"] == 40
    assert acme["attributes.renewal"] == "2026-03-01"
    assert acme["attributes.onboarded"] is True
    assert sorted(acme["attributes.features"]) == ["api", "sso"]
    assert acme["owner.success_manager"] == "owner@acme.test"
    assert acme["created_at"].startswith(str(accounts["acme"].created_at.year))
    assert globex["external_id"] == "globex"
    assert globex["stage"] is None and globex["days_in_stage"] is None and globex["tags"] == []
    assert globex["attributes.onboarded"] is False


def test_text_that_looks_like_a_number_comes_back_as_text(owner, accounts):
    _response, data = search(
        owner.api,
        {
            "where": {"field": "external_id", "op": "eq", "value": "globex"},
            "fields": ["attributes.code"],
        },
    )
    assert data["items"][0]["attributes.code"] == "123"


def test_a_value_of_another_type_than_its_attribute_is_missing(owner, accounts):
    _response, data = search(
        owner.api,
        {
            "where": {"field": "external_id", "op": "eq", "value": "initech"},
            "fields": ["attributes.seats"],
        },
    )
    assert data["items"][0]["attributes.seats"] is None


def test_without_a_condition_it_lists_every_account_by_id_with_its_own_columns(owner, accounts):
    _response, data = search(owner.api)
    assert [item["external_id"] for item in data["items"]] == [
        "acme",
        "globex",
        "initech",
        "umbrella",
    ]
    assert set(data["items"][0]) == {"id", "external_id", "name"}


# --- sorting ---------------------------------------------------------------------------------


def names(data):
    return [item["external_id"] for item in data["items"]]


def test_missing_values_sort_last_in_both_directions(owner, accounts):
    # seats: acme 40, globex 5, initech "lots" (missing), umbrella none (missing)
    _r, ascending = search(owner.api, {"sort": [{"field": "attributes.seats", "direction": "asc"}]})
    _r, descending = search(owner.api, {"sort": ["-attributes.seats"]})
    assert names(ascending) == ["globex", "acme", "initech", "umbrella"]
    assert names(descending) == ["acme", "globex", "initech", "umbrella"]


def test_days_in_stage_sorts_by_days_not_by_the_instant(owner, accounts):
    now = timezone.now()
    onboarding = Stage.objects.get(workspace=owner.workspace, name="Onboarding")
    Account.objects.filter(pk=accounts["globex"].pk).update(
        stage=onboarding, stage_entered_at=now - datetime.timedelta(days=10)
    )
    _r, data = search(owner.api, {"sort": ["-days_in_stage"], "fields": ["days_in_stage"]})
    assert [(i["external_id"], i["days_in_stage"]) for i in data["items"]] == [
        ("globex", 10), ("acme", 3), ("initech", None), ("umbrella", None),
    ]  # fmt: skip


def test_several_keys_break_ties_in_order_and_then_by_id(owner, model):
    for i, (status, plan) in enumerate(
        [
            ("paying", "pro"),
            ("trial", "pro"),
            ("paying", "basic"),
            ("paying", "pro"),
            ("trial", None),
        ]
    ):
        attributes = {"plan": plan} if plan else {}
        Account.objects.create(
            workspace=model, external_id=f"a{i}", name=f"A{i}", status=status, attributes=attributes
        )
    _r, data = search(owner.api, {"sort": ["status", "-attributes.plan"]})
    assert names(data) == ["a0", "a3", "a2", "a1", "a4"]


def test_a_cursor_pages_through_a_sort_with_missing_values_and_ties(owner, model):
    plans = [
        "pro",
        None,
        "basic",
        "pro",
        None,
        "enterprise",
        "pro",
        "basic",
        None,
        "pro",
        "x-unknown",
    ]
    for i, plan in enumerate(plans):
        Account.objects.create(
            workspace=model,
            external_id=f"a{i:02d}",
            name=f"A{i}",
            attributes={"plan": plan} if plan else {},
        )
    for direction in ("asc", "desc"):
        body = {
            "sort": [{"field": "attributes.plan", "direction": direction}],
            "fields": ["attributes.plan"],
        }
        whole = search(owner.api, {**body, "limit": 100})[1]["items"]
        paged, pages = page_through(owner.api, body, limit=2)
        assert paged == whole
        assert pages == 6
        values = [item["attributes.plan"] for item in paged]
        present = [v for v in values if v is not None]
        assert present == sorted(present, reverse=direction == "desc")
        assert values[len(present) :] == [None] * (len(values) - len(present))


@pytest.mark.parametrize(
    "sort",
    [["name"], ["-name"], ["-created_at"], ["external_id"], ["status", "-id"], ["-attributes.onboarded"],
     ["owner.success_manager"], ["stage", "-attributes.renewal"]],
)  # fmt: skip
def test_paging_by_cursor_gives_the_same_rows_as_one_page(owner, accounts, sort):
    bulk_accounts(owner.workspace, 9, status="trial")
    whole = search(owner.api, {"sort": sort, "limit": 1000})[1]["items"]
    paged, _pages = page_through(owner.api, {"sort": sort}, limit=3)
    assert paged == whole
    assert len(paged) == 13


# --- cursors ---------------------------------------------------------------------------------


def test_it_pages_through_more_than_ten_thousand_accounts_by_cursor(
    owner, django_assert_max_num_queries
):
    bulk_accounts(owner.workspace, 10_500)
    seen, cursor, pages = [], None, 0
    while True:
        with django_assert_max_num_queries(4):  # token, rate limit, the page
            response, data = search(owner.api, {"limit": 1000, "cursor": cursor})
        assert response.status_code == 200
        seen += [item["id"] for item in data["items"]]
        pages += 1
        cursor = data["next_cursor"]
        if cursor is None:
            break
    assert pages == 11
    assert len(seen) == len(set(seen)) == 10_500
    assert seen == sorted(seen)


def test_pages_are_stable_while_accounts_are_added(owner, model):
    bulk_accounts(model, 30)
    body = {"sort": ["name"], "limit": 10}
    _r, first = search(owner.api, body)
    # New accounts sorting before, among and after the rest of the pages.
    Account.objects.create(workspace=model, external_id="aaa", name="AAA first")
    Account.objects.create(workspace=model, external_id="mid", name="Company 00015x")
    Account.objects.create(workspace=model, external_id="zzz", name="Zzz last")
    _r, second = search(owner.api, {**body, "cursor": first["next_cursor"]})
    _r, third = search(owner.api, {**body, "cursor": second["next_cursor"]})
    assert names(first) == [f"acct-{i:05d}" for i in range(10)]
    # Nothing of the first page comes again, nothing after it is skipped.
    assert names(second) == [f"acct-{i:05d}" for i in range(10, 16)] + ["mid"] + [
        f"acct-{i:05d}" for i in range(16, 19)
    ]
    assert names(third)[:2] == ["acct-00019", "acct-00020"]


def test_the_default_page_is_a_hundred_and_at_most_a_thousand_can_be_asked(owner, model):
    bulk_accounts(model, 150)
    _r, data = search(owner.api)
    assert len(data["items"]) == 100 and data["next_cursor"]
    response, data = search(owner.api, {"limit": 1001})
    assert response.status_code == 422
    assert data["errors"][0]["field"] == "limit"


def test_a_tampered_cursor_is_refused_naming_the_cursor(owner, model):
    bulk_accounts(model, 5)
    _r, data = search(owner.api, {"limit": 2})
    cursor = data["next_cursor"]
    payload, _, signature = cursor.partition(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    for bad in [forged, cursor + "x", "nonsense", payload]:
        response, data = search(owner.api, {"limit": 2, "cursor": bad})
        assert response.status_code == 422, bad
        assert data["errors"] == [
            {
                "field": "cursor",
                "message": "is not a cursor this search issued; start again without one",
            }
        ]


def test_a_cursor_of_another_sort_is_refused(owner, model):
    bulk_accounts(model, 5)
    _r, data = search(owner.api, {"limit": 2, "sort": ["name"]})
    response, refused = search(
        owner.api, {"limit": 2, "sort": ["-name"], "cursor": data["next_cursor"]}
    )
    assert response.status_code == 422
    assert refused["errors"][0]["field"] == "cursor"
    assert "another sort" in refused["errors"][0]["message"]


def test_a_cursor_of_the_users_search_does_not_page_accounts(owner, model):
    from tend.accounts.models import EndUser

    EndUser.objects.bulk_create(EndUser(workspace=model, external_id=f"u{i}") for i in range(3))
    _r, users = search(owner.api, {"limit": 1}, url="/api/v1/users/search")
    response, data = search(owner.api, {"limit": 1, "cursor": users["next_cursor"]})
    assert response.status_code == 422 and data["errors"][0]["field"] == "cursor"


# --- errors and access -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"fields": ["status", "attributes.plann"]}, "fields.1", "unknown field 'attributes.plann'; did you mean 'attributes.plan'?"),
        ({"sort": [{"field": "tags"}]}, "sort.0.field", "'tags' holds several values and cannot be sorted by"),
        ({"sort": ["-nmae"]}, "sort.0", "unknown field 'nmae'; did you mean 'name'?"),
        ({"sort": [{"field": "name", "direction": "up"}]}, "sort.0.direction", "expected 'asc' or 'desc'"),
        ({"sort": [{"field": "name", "order": "asc"}]}, "sort.0.order", "is not taken; use field and direction"),
        ({"sort": [3]}, "sort.0", 'expected {"field": …, "direction": "asc"|"desc"} or "-field"'),
        ({"sort": ["name", "name"]}, "sort", "names a field more than once"),
        ({"where": {"all": [{"field": "status", "op": "eq", "value": "gold"}]}}, "where.all.0.value",
         "unknown option 'gold'; options: trial, paying, churned, free"),
        ({"where": {"field": "usage.event_7d", "op": "gt", "value": 1}}, "where.field", None),
        ({"where": [1]}, "where", None),
        ({"fields": "status"}, "fields", None),
        ({"limit": 0}, "limit", None),
        ({"colour": "red"}, "colour", None),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_field(owner, model, body, field, message):
    response, data = search(owner.api, body)
    assert response.status_code == 422, data
    assert data["errors"][0]["field"] == field
    if message:
        assert data["errors"][0]["message"] == message
    assert data["detail"].startswith(field)


def test_every_problem_is_reported_at_once(owner, model):
    response, data = search(
        owner.api,
        {"where": {"all": [{"field": "nope", "op": "eq", "value": 1}, {"field": "status", "op": "gt", "value": 1}]},
         "fields": ["bad"], "sort": ["worse"]},
    )  # fmt: skip
    assert response.status_code == 422
    assert [e["field"] for e in data["errors"]] == [
        "where.all.0.field",
        "where.all.1.op",
        "fields.0",
        "sort.0",
    ]


def test_an_outsider_finds_nothing_of_ours(outsider, accounts):
    _r, data = search(
        outsider.api, {"where": {"field": "external_id", "op": "eq", "value": "acme"}}
    )
    assert data == {"items": [], "next_cursor": None}


def test_an_outsiders_cursor_from_our_search_shows_them_nothing_of_ours(owner, outsider, model):
    bulk_accounts(model, 5)
    _r, ours = search(owner.api, {"limit": 2})
    _r, theirs = search(outsider.api, {"limit": 2, "cursor": ours["next_cursor"]})
    assert theirs == {"items": [], "next_cursor": None}


def test_a_viewer_may_search_and_a_token_without_read_may_not(viewer, accounts):
    response, _data = search(viewer.api)
    assert response.status_code == 200
    response, _data = search(viewer.browser)
    assert response.status_code == 200
    ingest_only = make_token(viewer.workspace, ("ingest",))
    from tend.test import token_client

    response, data = search(token_client(ingest_only))
    assert response.status_code == 403


def test_without_a_token_the_answer_is_401(client, accounts):
    response, data = search(client)
    assert response.status_code == 401


def test_a_page_of_many_fields_costs_a_fixed_number_of_queries(
    owner, accounts, django_assert_max_num_queries
):
    bulk_accounts(owner.workspace, 50, status="trial")
    body = {
        "fields": ["status", "stage", "tags", "owner.success_manager", "attributes.plan", "attributes.features",
                   "days_in_stage", "parent"],
        "sort": ["-attributes.plan", "stage"],
        "where": {"any": [{"field": "tags", "op": "contains", "value": "vip"}, {"field": "status", "op": "eq", "value": "trial"}]},
    }  # fmt: skip
    with django_assert_max_num_queries(14):
        _r, first = search(owner.api, {**body, "limit": 5})
    with django_assert_max_num_queries(14):
        _r, many = search(owner.api, {**body, "limit": 50})
    assert len(first["items"]) == 5 and len(many["items"]) == 50
