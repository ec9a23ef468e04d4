"""Conditions on health: ``health.rank``, ``health.score`` (with change filters against the
snapshots), ``health.profile`` and ``health.<dimension>`` give the known answers both ways
and agree on random conditions; a health profile cannot pick its accounts by health.

Health is written as scoring writes it — the current ``AccountHealth`` row and a
``HealthSnapshot`` on each day it changed — with the figures below (t is today):

=========  =======  =====  ========  =============================  ========================
account    rank     score  profile   dimensions                     snapshots (day: score)
=========  =======  =====  ========  =============================  ========================
good       good     82.5   Paying    adoption 90, support 70        t−40: 50, t−10: 80
average    average  55     default   (rules)                        t−30: 70
poor       poor     20     Paying    adoption 10, support "n/a"     t−60: 40, t−31: unscored
zero       poor     10     default                                  t−90: 0
unscored   –        –      default                                  –
never      (no health row)
=========  =======  =====  ========  =============================  ========================
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tend.accounts.actions.accounts import create_account
from tend.accounts.conditions import account_catalog, condition_now
from tend.accounts.tests.condition_checks import (
    AGREEMENT,
    Population,
    cached_fields,
    check_cached,
    random_conditions,
)
from tend.health import sources
from tend.health.actions.profiles import check_condition, create_profile, ensure_default_profile
from tend.health.conditions import profile_catalog
from tend.health.models import AccountHealth, HealthSnapshot
from tend.health.tests.populations import weighted
from tend.health.views.profile_form import condition_words
from tend.lib.conditions import FieldType, InvalidCondition

pytestmark = pytest.mark.django_db

EVERYONE = {"good", "average", "poor", "zero", "unscored", "never"}


@pytest.fixture
def population(workspace, owner):
    t = sources.local_today(workspace)
    default = ensure_default_profile(workspace)
    paying = create_profile(
        owner.actor,
        {
            "name": "Paying",
            "condition": {"field": "status", "op": "eq", "value": "paying"},
            "definition": weighted(
                ("adoption", 60, [("usage.active_days_14d", 100, 8, 2)]),
                ("support", 40, [("usage.events_30d", 100, 50, 5)]),
            ),
        },
    )
    rows = {
        "good": ("good", 82.5, paying, {"adoption": 90, "support": 70}, {t - 40: 50, t - 10: 80}),
        "average": ("average", 55, default, {"rules": None}, {t - 30: 70}),
        "poor": ("poor", 20, paying, {"adoption": 10, "support": "n/a"}, {t - 60: 40, t - 31: None}),
        "zero": ("poor", 10, default, {}, {t - 90: 0}),
        "unscored": (None, None, default, {}, {}),
    }
    for external_id in sorted(EVERYONE):
        account = create_account(
            owner.actor, {"external_id": external_id, "name": external_id, "status": "paying"}
        )
        if external_id not in rows:
            continue
        rank, score, profile, dimensions, snapshots = rows[external_id]
        AccountHealth.objects.create(
            account=account,
            workspace=workspace,
            profile=profile,
            version=profile.current_version,
            score=score,
            rank=rank,
            dimensions=dimensions,
        )
        for day, then in snapshots.items():
            HealthSnapshot.objects.create(
                workspace=workspace, account=account, day=day, score=then, rank=None
            )
    return Population(workspace, account_catalog(workspace), condition_now(workspace))


def leaf(field, op, value=None, days=None):
    clause = {"field": field, "op": op}
    if value is not None:
        clause["value"] = value
    if days is not None:
        clause["days"] = days
    return clause


CASES = [
    (leaf("health.rank", "eq", "good"), {"good"}),
    (leaf("health.rank", "in", ["average", "poor"]), {"average", "poor", "zero"}),
    (leaf("health.rank", "ne", "poor"), {"good", "average", "unscored", "never"}),
    (leaf("health.rank", "is_not_set"), {"unscored", "never"}),
    (leaf("health.score", "gt", 50), {"good", "average"}),
    (leaf("health.score", "lt", 20), {"zero"}),
    (leaf("health.score", "between", [20, 55]), {"average", "poor"}),
    (leaf("health.score", "eq", 82.5), {"good"}),
    (leaf("health.score", "is_not_set"), {"unscored", "never"}),
    (leaf("health.profile", "eq", "Paying"), {"good", "poor"}),
    (leaf("health.profile", "not_in", ["Paying"]), {"average", "zero", "unscored", "never"}),
    (leaf("health.adoption", "gte", 90), {"good"}),
    (leaf("health.adoption", "lt", 50), {"poor"}),
    (leaf("health.adoption", "is_set"), {"good", "poor"}),
    # poor's support holds text (not a number): missing, on both sides.
    (leaf("health.support", "is_set"), {"good"}),
    (leaf("health.support", "ne", 70), EVERYONE - {"good"}),
    # 30 days ago: good had 50 (its snapshot of t−40), average 70 (t−30 itself), zero 0;
    # poor was unscored (its latest snapshot by then holds no score), the rest had none.
    (leaf("health.score", "changed_by", 32.5, 30), {"good"}),
    (leaf("health.score", "changed_by", 33, 30), set()),
    (leaf("health.score", "changed_by", 10, 30), {"good", "zero"}),
    (leaf("health.score", "changed_by_pct", 65, 30), {"good"}),
    (leaf("health.score", "changed_by_pct", -20, 30), {"average"}),
    (leaf("health.score", "changed_by_pct", -22, 30), set()),
    (leaf("health.score", "changed_by_pct", 1, 90), set()),  # zero came from 0: no percentage
    (leaf("health.score", "changed_by", 10, 90), {"zero"}),
    (leaf("health.score", "changed_by", 2.5, 7), {"good", "zero"}),
    (leaf("health.score", "changed_by", 2.6, 7), {"zero"}),
    ({"not": leaf("health.score", "changed_by", -1, 30)}, EVERYONE - {"average"}),
    (
        {"all": [leaf("health.rank", "eq", "poor"), leaf("health.adoption", "is_not_set")]},
        {"zero"},
    ),
]


def test_health_fields_give_the_known_answers_both_ways(population):
    wrong = {}
    for condition, expected in CASES:
        found = population.matching(condition)
        if found != expected:
            wrong[str(condition)] = {"found": sorted(found), "expected": sorted(expected)}
    assert wrong == {}, wrong


@given(data=st.data())
@AGREEMENT
def test_health_conditions_agree_both_ways_on_random_conditions(population, data):
    fields = ["status", *(name for name in population.catalog if name.startswith("health."))]
    population.matching(data.draw(random_conditions(population, fields)))


@given(data=st.data())
@AGREEMENT
def test_the_column_cache_agrees_on_random_health_conditions(population, data):
    fields = cached_fields(population, ("status", "health."))
    assert {"health.rank", "health.score", "health.adoption"} <= set(fields)
    check_cached(population, data.draw(random_conditions(population, fields)))


def test_the_catalog_has_health_fields_of_their_types(population):
    catalog = population.catalog
    assert catalog["health.rank"].type == FieldType.ENUM
    assert catalog["health.rank"].options == ("good", "average", "poor")
    assert catalog["health.score"].type == FieldType.NUMBER
    assert catalog["health.score"].past is not None
    assert set(catalog["health.profile"].options) == {"Paying", ensure_default_profile(population.workspace).name}
    assert catalog["health.adoption"].label == "Adoption"
    assert catalog["health.support"].type == FieldType.NUMBER
    assert catalog["health.adoption"].past is None
    # Only the dimensions of weighted profiles: the rule-based default's is not a field.
    assert "health.rules" not in catalog
    assert {spec.group for name, spec in catalog.items() if name.startswith("health.")} == {"Health"}


def test_a_dimension_whose_key_clashes_or_cannot_be_named_is_not_a_field(workspace, owner):
    create_profile(
        owner.actor,
        {
            "name": "Odd keys",
            "definition": weighted(
                ("score", 50, [("usage.events_30d", 100, 50, 5)]),
                ("first touch", 50, [("usage.events_7d", 100, 5, 1)]),
            ),
        },
    )
    names = {n for n in account_catalog(workspace) if n.startswith("health.")}
    assert names == {"health.rank", "health.score", "health.profile"}


def test_a_health_profile_cannot_pick_its_accounts_by_health(population):
    workspace = population.workspace
    assert "health.rank" not in profile_catalog(workspace)
    assert "usage.events_7d" in profile_catalog(workspace)
    with pytest.raises(InvalidCondition) as caught:
        check_condition(workspace, {"all": [leaf("health.rank", "eq", "poor")]})
    assert caught.value.field == "condition.all.0.field"
    assert caught.value.message.startswith("unknown field 'health.rank'")


def test_a_change_clause_reads_as_a_rise_or_a_fall_over_its_span(population):
    catalog = profile_catalog(population.workspace)
    condition = {
        "all": [
            leaf("usage.events_7d", "changed_by_pct", -50, 30),
            leaf("usage.active_users_14d", "changed_by", 2, 7),
        ]
    }
    assert condition_words(condition, catalog) == (
        "Events, 7 days fell by 50 % or more over 30 days and "
        "Active users, 14 days rose by 2 or more over 7 days"
    )
