"""Conditions on usage: ``usage.<metric>`` fields read the account's metrics row, accounts
with no row compare as missing, and the compiled filter agrees with the evaluator.

The population is the hand-built history of ``usage_history`` (Acme, Acme EU) plus three
accounts with other patterns, all ingested through the one write path and rolled up, and
Quiet, which never sent anything (no metrics row at all).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from tend.accounts.actions.accounts import create_account
from tend.accounts.conditions import account_catalog, account_records, condition_now
from tend.accounts.tests.condition_checks import (
    AGREEMENT,
    Population,
    cached_fields,
    check_cached,
    random_conditions,
)
from tend.lib.conditions import FieldType, Storage
from tend.usage import rollups
from tend.usage.models import AccountUsage
from tend.usage.tests.usage_history import NOW, build_history, send_events

pytestmark = pytest.mark.django_db

METRICS = [
    "events_today",
    "events_yesterday",
    "events_3d",
    "events_7d",
    "events_14d",
    "events_30d",
    "events_90d",
    "active_users_7d",
    "active_users_14d",
    "active_users_30d",
    "seconds_7d",
    "seconds_30d",
    "active_days_14d",
    "engagement",
    "licence_utilisation",
]


@pytest.fixture
def population(owner):
    build_history(owner)
    actor = owner.actor
    for external_id, name in [
        ("old-timer", "Old Timer"),
        ("no-module", "No Module"),
        ("busy", "Busy"),
        ("quiet", "Quiet"),
    ]:
        create_account(actor, {"external_id": external_id, "name": name, "status": "paying"})
    send_events(
        owner.workspace,
        [
            ("old-timer", "o1", "Logged in", "Core", 60, 0, None),
            ("no-module", None, "Nightly sync", "", 0, 5, None),
            *[("busy", "b1", "Viewed report", "Reports", days, 0, 30.0) for days in range(14)],
        ],
    )
    rollups.roll_up(now=NOW)
    workspace = owner.workspace
    return Population(workspace, account_catalog(workspace), condition_now(workspace, NOW))


def usage_of(external_id: str) -> AccountUsage:
    return AccountUsage.objects.get(account__external_id=external_id)


def leaf(field, op, value=None):
    clause = {"field": field, "op": op}
    if value is not None:
        clause["value"] = value
    return clause


def test_the_rollup_gave_the_metrics_the_cases_rely_on(population):
    acme, eu = usage_of("acme"), usage_of("acme-eu")
    assert (acme.events_7d, acme.events_90d, acme.active_users_14d) == (6, 13, 2)
    assert (acme.visit_frequency, eu.visit_frequency, usage_of("busy").visit_frequency) == (
        "weekly",
        "occasionally",
        "daily",
    )
    assert eu.events_7d == 4 and usage_of("old-timer").events_30d == 0
    assert sorted(acme.modules_30d) == ["Admin", "Core", "Reports"]
    assert usage_of("no-module").modules_30d == [] and usage_of("old-timer").modules_30d == []
    assert acme.last_seen_at == NOW
    assert not AccountUsage.objects.filter(account__external_id="quiet").exists()


EVERYONE = {"acme", "acme-eu", "old-timer", "no-module", "busy", "quiet"}
SEEN = EVERYONE - {"quiet"}

CASES = [
    (leaf("usage.events_7d", "gte", 5), {"acme", "busy"}),
    (leaf("usage.events_7d", "lt", 5), {"acme-eu", "old-timer", "no-module"}),  # not Quiet
    ({"not": leaf("usage.events_7d", "gte", 5)}, {"acme-eu", "old-timer", "no-module", "quiet"}),
    (leaf("usage.events_7d", "ne", 6), EVERYONE - {"acme"}),
    (leaf("usage.events_7d", "is_not_set"), {"quiet"}),
    (leaf("usage.events_90d", "eq", 13), {"acme"}),
    # Fractions against whole-number counts: Django alone would read 12.5 as 12.
    (leaf("usage.events_90d", "eq", 12.5), set()),
    (leaf("usage.events_90d", "gt", 12.5), {"acme", "busy"}),  # 13 and 14
    (leaf("usage.events_90d", "lte", 12.5), SEEN - {"acme", "busy"}),
    (leaf("usage.events_7d", "gte", -0.5), SEEN),
    (leaf("usage.events_7d", "in", [5.5, 6.0]), {"acme"}),
    (leaf("usage.active_users_14d", "between", [1, 1]), {"busy"}),
    (leaf("usage.active_days_14d", "gte", 14), {"busy"}),
    (leaf("usage.seconds_7d", "gt", 100), {"acme", "busy"}),
    (leaf("usage.visit_frequency", "eq", "weekly"), {"acme"}),
    (leaf("usage.visit_frequency", "in", ["daily", "weekly"]), {"acme", "busy"}),
    (leaf("usage.visit_frequency", "not_in", ["daily", "weekly"]), EVERYONE - {"acme", "busy"}),
    (leaf("usage.visit_frequency", "eq", "inactive"), {"old-timer"}),
    (leaf("usage.last_seen", "within_last_days", 1), {"acme", "acme-eu", "no-module", "busy"}),
    # Acme's and Busy's latest events are exactly now, so not "more than 0 days ago".
    (leaf("usage.last_seen", "more_than_days_ago", 0), {"acme-eu", "old-timer", "no-module"}),
    (leaf("usage.last_seen", "more_than_days_ago", 30), {"old-timer"}),
    (leaf("usage.last_seen", "is_not_set"), {"quiet"}),
    (leaf("usage.last_seen", "eq", NOW.date().isoformat()), {"acme", "acme-eu", "no-module", "busy"}),
    (leaf("usage.first_seen", "more_than_days_ago", 30), {"acme", "old-timer"}),
    # Busy's first event was exactly 13 days ago: the window includes its start.
    (leaf("usage.first_seen", "within_last_days", 13), {"acme-eu", "no-module", "busy"}),
    (leaf("usage.first_seen", "within_last_days", 12), {"acme-eu", "no-module"}),
    (leaf("usage.modules", "contains", "Admin"), {"acme"}),
    (leaf("usage.modules", "not_contains", "Admin"), EVERYONE - {"acme"}),
    (leaf("usage.modules", "in", ["Reports", "Nowhere"]), {"acme", "acme-eu", "busy"}),
    (leaf("usage.modules", "is_not_set"), {"old-timer", "no-module", "quiet"}),
    (leaf("usage.licence_utilisation", "eq", 0.5), {"acme"}),  # 2 active users of 4 licences
    (leaf("usage.licence_utilisation", "is_set"), {"acme", "acme-eu"}),
    (
        {
            "all": [
                leaf("status", "eq", "paying"),
                leaf("usage.last_seen", "more_than_days_ago", 14),
            ]
        },
        {"old-timer"},
    ),
]


def test_usage_fields_give_the_known_answers_both_ways(population):
    wrong = {}
    for condition, expected in CASES:
        found = population.matching(condition)
        if found != expected:
            wrong[str(condition)] = {"found": sorted(found), "expected": sorted(expected)}
    assert wrong == {}, wrong


@given(data=st.data())
@AGREEMENT
def test_usage_conditions_agree_both_ways_on_random_conditions(population, data):
    fields = ["status", *(name for name in population.catalog if name.startswith("usage."))]
    population.matching(data.draw(random_conditions(population, fields)))


@given(data=st.data())
@AGREEMENT
def test_the_column_cache_agrees_on_random_usage_conditions(population, data):
    fields = cached_fields(population, ("status", "usage."))
    assert "usage.modules" in fields and "usage.last_seen" not in fields
    check_cached(population, data.draw(random_conditions(population, fields)))


def test_every_usage_metric_is_a_field_of_its_type(population):
    catalog = population.catalog
    for metric in METRICS:
        assert catalog[f"usage.{metric}"].type == FieldType.NUMBER, metric
        assert catalog[f"usage.{metric}"].group == "Usage"
    assert catalog["usage.visit_frequency"].options == ("daily", "weekly", "occasionally", "inactive")
    for moment in ("usage.last_seen", "usage.first_seen"):
        assert catalog[moment].type == FieldType.DATETIME
        assert catalog[moment].storage == Storage.EPOCH_MS
    whole = {m for m in METRICS if catalog[f"usage.{m}"].integer}
    assert whole == set(METRICS) - {"seconds_7d", "seconds_30d", "licence_utilisation"}
    assert catalog["usage.modules"].type == FieldType.MULTI_ENUM
    assert catalog["usage.modules"].options is None  # any module name the product sends


def test_an_account_without_usage_reads_as_missing_on_every_usage_field(population):
    quiet = population.records[population.accounts.get(external_id="quiet").pk]
    # The fields, and the values then of those that take change filters: all missing.
    usage_values = {k: v for k, v in quiet.items() if k.startswith("usage.")}
    assert len([k for k in usage_values if "@" not in k]) == len(METRICS) + 4
    assert set(usage_values.values()) == {None}


def test_usage_records_come_with_the_accounts_in_one_query(population):
    condition = {"all": [leaf("usage.events_7d", "gt", 0), leaf("usage.modules", "contains", "Core")]}
    with CaptureQueriesContext(connection) as queries:
        records = account_records(population.catalog, population.accounts, population.now, condition)
    assert len(queries) == 1
    acme = records[population.accounts.get(external_id="acme").pk]
    assert acme == {"usage.events_7d": 6, "usage.modules": ["Admin", "Core", "Reports"]}
