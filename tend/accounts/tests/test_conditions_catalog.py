"""Conditions on real accounts: the catalog of built-in fields and attributes, one query per
population, and the compiled filter agreeing with the pure evaluator — on a table of cases
with known answers and on random conditions — on SQLite and PostgreSQL alike."""

import datetime
import json
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from tend.accounts.actions.accounts import create_account
from tend.accounts.actions.definitions.attributes import create_attribute
from tend.accounts.actions.definitions.roles import create_role
from tend.accounts.actions.definitions.stages import create_stage
from tend.accounts.conditions import (
    account_catalog,
    account_records,
    condition_now,
    matching_accounts,
)
from tend.accounts.models import Account, Stage
from tend.accounts.tests.condition_checks import (
    AGREEMENT,
    Population,
    cached_fields,
    check_cached,
    random_conditions,
)
from tend.lib.conditions import FieldType, InvalidCondition, Storage, compile_q
from tend.test import make_member

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
# Noon in New York on a fixed day: conditions are judged at this instant.
NOW = datetime.datetime(2025, 6, 16, 12, 0, tzinfo=NEW_YORK)
TODAY = NOW.date()

ATTRIBUTES = [
    {"key": "plan", "label": "Plan", "type": "enum", "options": ["free", "pro", "enterprise"]},
    {"key": "arr", "label": "ARR", "type": "currency"},
    {"key": "seats", "label": "Seats", "type": "number"},
    {"key": "renewal", "label": "Renewal date", "type": "date"},
    {"key": "onboarded", "label": "Onboarded", "type": "boolean"},
    {"key": "website", "label": "Website", "type": "url"},
    {"key": "notes", "label": "Notes", "type": "text"},
    {"key": "features", "label": "Features", "type": "multi_enum", "options": ["sso", "api", "audit"]},
    # A key with a double underscore must not be split as a lookup path.
    {"key": "region__code", "label": "Region code", "type": "text"},
]


def ago(days=0, hours=0, minutes=0, ms=0):
    return NOW - datetime.timedelta(days=days, hours=hours, minutes=minutes, milliseconds=ms)


def day(offset: int) -> str:
    return (TODAY + datetime.timedelta(days=offset)).isoformat()


@pytest.fixture
def population(owner):
    """Nine accounts covering every kind of field, its boundaries and missing values.

    ====================  ======================================================================
    acme                  paying enterprise, Adoption 10 d 2 h, vip, Alice, renews in 20 days
    acme-eu               child of acme, pro, Onboarding 2 d, vip+beta, Bob, ARR 50,000 exactly
    globex                trial, free, no stage, no tags, Alice as Sales Manager, renewed 40 d ago
    initech               churned enterprise, Renewal exactly 30 d, at-risk, ARR 50,000.5
    umbrella              free, lower-case name, no attributes at all
    hooli                 paying, its stage deleted (entry time kept), created at local midnight
    legacy                attributes of the wrong JSON type (written before a type change)
    midnight-minus        created one millisecond before local midnight
    other workspace       the same attributes, never returned
    ====================  ======================================================================
    """
    workspace = owner.workspace
    workspace.time_zone = "America/New_York"
    workspace.save()
    actor = owner.actor
    for spec in ATTRIBUTES:
        create_attribute(actor, spec)
    stages = {name: create_stage(actor, {"name": name}) for name in ("Onboarding", "Adoption", "Renewal", "Gone")}
    create_role(actor, {"key": "success_manager", "name": "Success Manager"})
    create_role(actor, {"key": "sales", "name": "Sales Manager"})
    make_member(workspace, email="alice@acme.test")
    make_member(workspace, email="bob@acme.test")

    def account(external_id, name, **data):
        moments = {k: data.pop(k) for k in ("created_at", "stage_entered_at") if k in data}
        created = create_account(actor, {"external_id": external_id, "name": name, **data})
        if moments:
            Account.objects.filter(pk=created.pk).update(**moments)
        return created

    account(
        "acme",
        "Acme Corp",
        status="paying",
        stage="Adoption",
        stage_entered_at=ago(10, 2),
        tags=["vip"],
        assignments={"success_manager": "alice@acme.test"},
        attributes={
            "plan": "enterprise",
            "arr": 120_000,
            "seats": 50,
            "renewal": day(20),
            "onboarded": True,
            "website": "https://acme.example",
            "notes": "Key logo, expanding",
            "features": ["sso", "api"],
            "region__code": "US-E",
        },
        created_at=ago(400),
    )
    account(
        "acme-eu",
        "Acme EU",
        status="paying",
        parent_external_id="acme",
        stage="Onboarding",
        stage_entered_at=ago(2),
        tags=["vip", "beta"],
        assignments={"success_manager": "bob@acme.test"},
        attributes={"plan": "pro", "arr": 50_000, "seats": 10.5, "renewal": day(0), "onboarded": False, "features": []},
        created_at=ago(30, 1),
    )
    account(
        "globex",
        "Globex",
        status="trial",
        assignments={"sales": "alice@acme.test"},
        attributes={"plan": "free", "arr": 0, "renewal": day(-40), "features": ["audit"], "notes": "trial ends soon"},
        created_at=ago(5),
    )
    account(
        "initech",
        "Initech",
        status="churned",
        stage="Renewal",
        stage_entered_at=ago(30),
        tags=["at-risk"],
        attributes={"plan": "enterprise", "arr": 50_000.5, "renewal": day(-1), "region__code": "EU-W"},
        created_at=ago(90),
    )
    account("umbrella", "umbrella ltd", status="free", created_at=ago(1))
    hooli = account(
        "hooli",
        "Hooli",
        status="paying",
        stage="Gone",
        stage_entered_at=ago(3),
        created_at=datetime.datetime.combine(TODAY, datetime.time(), tzinfo=NEW_YORK),
    )
    Stage.objects.filter(pk=stages["Gone"].pk).delete()  # hooli keeps its entry time, no stage
    legacy = account("legacy", "Legacy Inc", status="paying", created_at=ago(700))
    Account.objects.filter(pk=legacy.pk).update(
        attributes={"arr": "lots", "renewal": 20250101, "onboarded": "yes", "features": "sso", "plan": 3}
    )
    account(
        "midnight-minus",
        "Midnight Minus",
        created_at=datetime.datetime.combine(TODAY, datetime.time(), tzinfo=NEW_YORK)
        - datetime.timedelta(milliseconds=1),
    )
    hooli.refresh_from_db()
    assert hooli.stage_id is None and hooli.stage_entered_at is not None
    return Population(workspace, account_catalog(workspace), NOW)


@pytest.fixture
def other_workspace_accounts(outsider):
    for spec in ATTRIBUTES[:2]:
        create_attribute(outsider.actor, spec)
    create_account(
        outsider.actor,
        {"external_id": "acme", "name": "Acme Corp", "attributes": {"plan": "enterprise", "arr": 1e6}},
    )


def leaf(field, op, value=None):
    clause = {"field": field, "op": op}
    if value is not None:
        clause["value"] = value
    return clause


EVERYONE = {"acme", "acme-eu", "globex", "initech", "umbrella", "hooli", "legacy", "midnight-minus"}

CASES = [
    # Built-in fields.
    (leaf("name", "contains", "acme"), {"acme", "acme-eu"}),
    (leaf("name", "starts_with", "UMB"), {"umbrella"}),
    (leaf("name", "eq", "Umbrella Ltd"), set()),  # equality is exact
    (leaf("external_id", "in", ["acme", "hooli", "nope"]), {"acme", "hooli"}),
    (leaf("status", "eq", "paying"), {"acme", "acme-eu", "hooli", "legacy"}),
    (leaf("status", "not_in", ["paying", "trial"]), {"initech", "umbrella"}),
    (leaf("stage", "in", ["Onboarding", "Adoption"]), {"acme", "acme-eu"}),
    (leaf("stage", "is_not_set"), {"globex", "umbrella", "hooli", "legacy", "midnight-minus"}),
    (leaf("stage", "ne", "Adoption"), EVERYONE - {"acme"}),
    (leaf("days_in_stage", "gte", 10), {"acme", "initech"}),
    (leaf("days_in_stage", "gt", 10), {"initech"}),  # acme: 10 days 2 hours is 10 whole days
    (leaf("days_in_stage", "eq", 30), {"initech"}),  # exactly 30 days
    (leaf("days_in_stage", "lt", 10.5), {"acme", "acme-eu"}),
    (leaf("days_in_stage", "between", [2, 10]), {"acme", "acme-eu"}),
    (leaf("days_in_stage", "is_set"), {"acme", "acme-eu", "initech"}),  # not hooli: no stage
    (leaf("tags", "contains", "vip"), {"acme", "acme-eu"}),
    (leaf("tags", "in", ["beta", "at-risk"]), {"acme-eu", "initech"}),
    (leaf("tags", "not_contains", "vip"), EVERYONE - {"acme", "acme-eu"}),
    (leaf("tags", "is_not_set"), EVERYONE - {"acme", "acme-eu", "initech"}),
    (leaf("parent", "eq", "acme"), {"acme-eu"}),
    (leaf("parent", "is_set"), {"acme-eu"}),
    (leaf("created_at", "within_last_days", 5), {"globex", "umbrella", "hooli", "midnight-minus"}),
    (leaf("created_at", "more_than_days_ago", 365), {"acme", "legacy"}),
    (leaf("created_at", "more_than_days_ago", 5), {"acme", "acme-eu", "initech", "legacy"}),
    (leaf("created_at", "eq", day(0)), {"hooli"}),  # the local day in New York
    (leaf("created_at", "lt", day(0)), EVERYONE - {"hooli"}),
    (leaf("created_at", "gte", day(-1)), {"umbrella", "hooli", "midnight-minus"}),
    (leaf("owner.success_manager", "eq", "alice@acme.test"), {"acme"}),
    (leaf("owner.success_manager", "is_not_set"), EVERYONE - {"acme", "acme-eu"}),
    (leaf("owner.sales", "contains", "@acme.test"), {"globex"}),
    # Attributes of every type.
    (leaf("attributes.plan", "eq", "enterprise"), {"acme", "initech"}),
    (leaf("attributes.plan", "ne", "enterprise"), EVERYONE - {"acme", "initech"}),
    (leaf("attributes.arr", "gt", 50_000), {"acme", "initech"}),
    (leaf("attributes.arr", "gte", 50_000), {"acme", "acme-eu", "initech"}),
    (leaf("attributes.arr", "lt", 1), {"globex"}),  # not legacy's "lots"
    (leaf("attributes.arr", "in", [0, 50_000]), {"globex", "acme-eu"}),
    (leaf("attributes.arr", "is_not_set"), {"umbrella", "hooli", "legacy", "midnight-minus"}),
    (leaf("attributes.seats", "between", [10, 10.5]), {"acme-eu"}),
    (leaf("attributes.renewal", "within_next_days", 30), {"acme", "acme-eu"}),
    (leaf("attributes.renewal", "within_last_days", 1), {"acme-eu", "initech"}),
    (leaf("attributes.renewal", "more_than_days_ago", 30), {"globex"}),
    (leaf("attributes.renewal", "lt", day(0)), {"globex", "initech"}),  # not legacy's number
    (leaf("attributes.onboarded", "eq", True), {"acme"}),
    (leaf("attributes.onboarded", "eq", False), {"acme-eu"}),  # not legacy's "yes"
    (leaf("attributes.onboarded", "ne", True), EVERYONE - {"acme"}),
    (leaf("attributes.website", "starts_with", "https://"), {"acme"}),
    (leaf("attributes.notes", "contains", "LOGO"), {"acme"}),
    (leaf("attributes.features", "contains", "sso"), {"acme"}),  # not legacy's "sso" text
    (leaf("attributes.features", "in", ["api", "audit"]), {"acme", "globex"}),
    (leaf("attributes.features", "is_set"), {"acme", "globex"}),  # acme-eu's [] holds nothing
    (leaf("attributes.region__code", "eq", "EU-W"), {"initech"}),
    # Groups.
    (
        {"all": [leaf("status", "eq", "paying"), leaf("attributes.plan", "eq", "enterprise")]},
        {"acme"},
    ),
    (
        {"any": [leaf("attributes.plan", "eq", "enterprise"), leaf("attributes.arr", "gt", 50_000)]},
        {"acme", "initech"},
    ),
    ({"not": leaf("attributes.arr", "gt", 50_000)}, EVERYONE - {"acme", "initech"}),
    ({"all": []}, EVERYONE),
    ({"any": []}, set()),
    # Usage fields exist, and accounts without usage compare as missing.
    (leaf("usage.events_7d", "is_not_set"), EVERYONE),
    (leaf("usage.events_7d", "lt", 5), set()),
]


def test_the_compiled_filter_and_the_evaluator_give_the_known_answers(population):
    # One test over the whole table: building the population is what takes the time.
    wrong = {}
    for condition, expected in CASES:
        found = population.matching(condition)
        if found != expected:
            wrong[json.dumps(condition)] = {"found": sorted(found), "expected": sorted(expected)}
    assert wrong == {}


@given(data=st.data())
@AGREEMENT
def test_the_compiled_filter_and_the_evaluator_agree_on_random_conditions(population, data):
    # Usage fields have a population of their own (tend/usage/tests); here they are all missing.
    fields = [name for name in population.catalog if not name.startswith("usage.")]
    population.matching(data.draw(random_conditions(population, fields)))


@given(data=st.data())
@AGREEMENT
def test_the_column_cache_agrees_with_both_on_random_conditions_over_its_fields(population, data):
    fields = cached_fields(population, ("status", "attributes."))
    assert len(fields) == 1 + len(ATTRIBUTES)  # status and every attribute
    check_cached(population, data.draw(random_conditions(population, fields)))


def test_the_catalog_lists_built_ins_roles_and_attributes_typed_by_their_definition(population):
    catalog = population.catalog
    for name in ("name", "external_id", "status", "stage", "days_in_stage", "tags", "parent", "created_at"):
        assert catalog[name].group == "Account", name
    assert catalog["owner.success_manager"].label == "Success Manager"
    assert catalog["owner.sales"].type == FieldType.TEXT
    kinds = {spec["key"]: catalog[f"attributes.{spec['key']}"].type for spec in ATTRIBUTES}
    assert kinds == {
        "plan": FieldType.ENUM,
        "arr": FieldType.NUMBER,
        "seats": FieldType.NUMBER,
        "renewal": FieldType.DATE,
        "onboarded": FieldType.BOOLEAN,
        "website": FieldType.TEXT,
        "notes": FieldType.TEXT,
        "features": FieldType.MULTI_ENUM,
        "region__code": FieldType.TEXT,
    }
    assert catalog["attributes.renewal"].storage == Storage.ISO_DATE
    assert catalog["attributes.plan"].options == ("free", "pro", "enterprise")
    assert catalog["stage"].options == ("Onboarding", "Adoption", "Renewal")
    assert set(catalog["tags"].options) == {"vip", "beta", "at-risk"}
    assert catalog["status"].options == ("trial", "paying", "churned", "free")
    assert "usage.events_7d" in catalog  # added by the usage app's provider


def test_a_condition_on_another_workspace_finds_none_of_its_accounts(population, other_workspace_accounts):
    condition = leaf("attributes.plan", "eq", "enterprise")
    found = matching_accounts(population.workspace, condition, now=NOW)
    assert sorted(found.values_list("external_id", flat=True)) == ["acme", "initech"]


def test_a_wrong_condition_is_refused_naming_the_clause(population):
    condition = {"all": [leaf("status", "eq", "paying"), leaf("attributes.plan", "eq", "gold")]}
    with pytest.raises(InvalidCondition) as caught:
        matching_accounts(population.workspace, condition)
    assert caught.value.field == "all.1.value"
    assert "unknown option 'gold'" in caught.value.message
    with pytest.raises(InvalidCondition) as caught:
        matching_accounts(population.workspace, leaf("attributes.arr", "gt", "50k"))
    assert caught.value.as_dict() == {"field": "value", "message": "expected a number, got '50k'"}


def test_the_catalog_takes_the_same_queries_however_many_definitions(owner, outsider):
    for index in range(6):
        create_attribute(outsider.actor, {"key": f"a{index}", "label": f"A{index}", "type": "number"})
        create_role(outsider.actor, {"key": f"r{index}", "name": f"R{index}"})
        create_stage(outsider.actor, {"name": f"S{index}"})
    with CaptureQueriesContext(connection) as small:
        account_catalog(owner.workspace)
    with CaptureQueriesContext(connection) as large:
        catalog = account_catalog(outsider.workspace)
    assert len(catalog) > 18
    assert len(large) == len(small) <= 8


def test_compiling_runs_no_query_and_filtering_one(population, django_assert_num_queries):
    condition = {
        "any": [
            {"all": [leaf("owner.success_manager", "is_set"), leaf("tags", "contains", "vip")]},
            leaf("attributes.features", "in", ["api"]),
            leaf("days_in_stage", "gt", 3),
            {"not": leaf("usage.last_seen", "within_last_days", 14)},
        ]
    }
    with django_assert_num_queries(0):
        compiled = compile_q(condition, population.catalog, NOW)
    with django_assert_num_queries(1):
        found = set(compiled.filter(population.accounts).values_list("external_id", flat=True))
    assert found == EVERYONE


def test_a_clause_on_a_typed_attribute_compares_the_value_before_testing_its_type(population):
    # Not Django's KeyTransform, which read the key for the test, again for "not NULL" and
    # "not empty", then for the type guard (docs/performance.md, segment counts): now the
    # comparison first, "not empty" for text, the guard last — the rows most clauses reject
    # read the key once.
    cases = [
        ("attributes.seats", "gte", 10, ">=", 2),
        ("attributes.plan", "in", ["pro", "enterprise"], " IN ", 3),
        ("attributes.renewal", "lt", day(0), " < ", 3),
    ]
    for field, op, value, compare, reads in cases:
        compiled = compile_q(leaf(field, op, value), population.catalog, NOW)
        sql = str(compiled.filter(population.accounts).query)
        where = sql[sql.index(" WHERE ") :]
        assert where.count(field.split(".")[1]) == reads, where
        guard = where.index("JSON_TYPE" if "JSON_TYPE" in where else "jsonb_typeof")
        assert where.index(compare) < guard, where


def test_records_for_many_accounts_take_a_fixed_number_of_queries(population, owner):
    condition = {
        "all": [
            leaf("stage", "is_set"),
            leaf("parent", "is_set"),
            leaf("tags", "is_set"),
            leaf("owner.success_manager", "is_set"),
            leaf("usage.engagement", "is_set"),
        ]
    }
    catalog, accounts = population.catalog, population.accounts
    with CaptureQueriesContext(connection) as few:
        account_records(catalog, accounts.filter(external_id__in=["acme", "globex"]), NOW, condition)
    with CaptureQueriesContext(connection) as many:
        records = account_records(catalog, accounts, NOW, condition)
    assert len(many) == len(few) == 3  # accounts with stage, parent and usage; tags; assignments
    acme = records[accounts.get(external_id="acme").pk]
    assert acme == {
        "stage": "Adoption",
        "parent": None,
        "tags": ["vip"],
        "owner.success_manager": "alice@acme.test",
        "usage.engagement": None,
    }


def test_condition_now_is_the_current_time_in_the_workspaces_zone(population):
    now = condition_now(population.workspace, datetime.datetime(2025, 1, 1, 3, 0, tzinfo=datetime.UTC))
    assert now.tzinfo == NEW_YORK and now.date() == datetime.date(2024, 12, 31)
