"""Change filters on usage and custom metrics, and ``metrics.<key>`` fields, on real rows:
known answers both ways (compiled filter and evaluator), agreement on random conditions,
and the usage values then agreeing with health's NumPy recomputation and with the live row.

Events are ingested through the one write path and rolled up at ``NOW`` (noon UTC today;
the workspace is on UTC). Events in the 7 days ending 30 days ago ("then") and in the last
7 days ("now"):

==========  ===================================  =========  ==========  ===================
account     events                               7 d then   7 d now     change
==========  ===================================  =========  ==========  ===================
grower      1 a day 30–36 days ago (u1), 3 a     7          21          +14, +200 %
            day in the last 7 (u1, u2, u3)
faller      10 a day 30–36 days ago, 1 a day     70         7           −63, −90 %
            in the last 7
steady      1 a day for 100 days                 7          7           0
lapsed      2 a day 35–40 days ago               4          0           −4, −100 %
from-zero   1 event 60 days ago, 5 today         0          5           +5, no % (from 0)
newcomer    1 a day in the last 5 days           (not yet   5           none over 30 days;
                                                 seen)                  +150 % over 3 days
quiet       nothing                              –          –           –
==========  ===================================  =========  ==========  ===================
"""

import math

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from tend.accounts.actions.accounts import create_account
from tend.accounts.conditions import account_catalog, account_records, condition_now
from tend.accounts.tests.condition_checks import AGREEMENT, Population, random_conditions
from tend.lib.conditions import FieldType, InvalidCondition, validate
from tend.lib.dates import zone
from tend.usage import rollups
from tend.usage.models import AccountUsage
from tend.usage.past import WINDOW_METRICS, PastUsage
from tend.usage.past.relations import usage_then
from tend.usage.tests.usage_history import NOW, send_events, send_metric

pytestmark = pytest.mark.django_db

ACCOUNTS = ["grower", "faller", "steady", "lapsed", "from-zero", "newcomer", "quiet"]
EVERYONE = set(ACCOUNTS)


def daily(account, user, days, per_day=1):
    return [
        (account, user, "Did a thing", "Core", day, minute, 30.0)
        for day in days
        for minute in range(per_day)
    ]


@pytest.fixture
def population(owner):
    workspace = owner.workspace
    for external_id in ACCOUNTS:
        create_account(
            owner.actor, {"external_id": external_id, "name": external_id, "status": "paying"}
        )
    send_events(
        workspace,
        [
            *daily("grower", "u1", range(30, 37)),
            *daily("grower", "u1", range(7)),
            *daily("grower", "u2", range(7)),
            *daily("grower", "u3", range(7)),
            *daily("faller", "f1", range(30, 37), per_day=10),
            *daily("faller", "f1", range(7)),
            *daily("steady", "s1", range(100)),
            *daily("lapsed", "l1", range(35, 41), per_day=2),
            *daily("from-zero", "z1", [60]),
            *daily("from-zero", "z1", [0], per_day=5),
            *daily("newcomer", "n1", range(5)),
        ],
    )
    # Custom metric "nps" by days ago (a negative day: a value sent ahead, for a later day).
    send_metric(workspace, "grower", "nps", {40: 30, 10: 50, 0: 60})
    send_metric(workspace, "faller", "nps", {5: 20})
    send_metric(workspace, "steady", "nps", {-3: 99})
    send_metric(workspace, "lapsed", "nps", {35: -10, 1: -5})
    rollups.roll_up(now=NOW)
    return Population(workspace, account_catalog(workspace), condition_now(workspace, NOW))


def leaf(field, op, value=None, days=None):
    clause = {"field": field, "op": op}
    if value is not None:
        clause["value"] = value
    if days is not None:
        clause["days"] = days
    return clause


def usage(external_id: str) -> AccountUsage:
    return AccountUsage.objects.get(account__external_id=external_id)


def test_the_rollup_gave_the_figures_the_cases_rely_on(population):
    now = {a: usage(a).events_7d for a in ACCOUNTS if a != "quiet"}
    assert now == {"grower": 21, "faller": 7, "steady": 7, "lapsed": 0, "from-zero": 5, "newcomer": 5}
    assert usage("grower").active_users_7d == 3


CASES = [
    (leaf("usage.events_7d", "changed_by", 14, 30), {"grower"}),
    (leaf("usage.events_7d", "changed_by", 14.5, 30), set()),
    # From 0, an absolute change is the value now; an account not seen then has no change.
    (leaf("usage.events_7d", "changed_by", 5, 30), {"grower", "from-zero"}),
    (leaf("usage.events_7d", "changed_by", -63, 30), {"faller"}),
    (leaf("usage.events_7d", "changed_by", -4, 30), {"faller", "lapsed"}),
    (leaf("usage.events_7d", "changed_by", -4.5, 30), {"faller"}),
    (leaf("usage.events_7d", "changed_by_pct", 200, 30), {"grower"}),
    (leaf("usage.events_7d", "changed_by_pct", 200.5, 30), set()),
    (leaf("usage.events_7d", "changed_by_pct", -90, 30), {"faller", "lapsed"}),
    (leaf("usage.events_7d", "changed_by_pct", -100, 30), {"lapsed"}),
    # No percentage from 0: from-zero's rise is not "up by 1 %".
    (leaf("usage.events_7d", "changed_by_pct", 1, 30), {"grower"}),
    (
        {"not": leaf("usage.events_7d", "changed_by_pct", -50, 30)},
        EVERYONE - {"faller", "lapsed"},
    ),
    # Three days ago the newcomer had been seen: 2 events in the 7 days ending then.
    (leaf("usage.events_7d", "changed_by_pct", 150, 3), {"newcomer"}),
    (leaf("usage.events_7d", "changed_by_pct", 75, 3), {"grower", "faller", "newcomer"}),
    (leaf("usage.active_users_7d", "changed_by", 2, 30), {"grower"}),
    (leaf("usage.active_days_14d", "changed_by", -2, 30), {"lapsed"}),
    (leaf("usage.seconds_7d", "changed_by", 400, 30), {"grower"}),
    (leaf("usage.events_today", "changed_by", 4, 1), {"from-zero"}),
    (
        {
            "all": [
                leaf("status", "eq", "paying"),
                leaf("usage.events_30d", "changed_by_pct", -50, 30),
            ]
        },
        {"faller", "lapsed"},
    ),
    # metrics.nps: the latest value sent for a day up to today.
    (leaf("metrics.nps", "gt", 50), {"grower"}),
    (leaf("metrics.nps", "eq", 20), {"faller"}),
    (leaf("metrics.nps", "lt", 0), {"lapsed"}),
    (leaf("metrics.nps", "is_not_set"), {"steady", "from-zero", "newcomer", "quiet"}),
    (leaf("metrics.nps", "ne", 60), EVERYONE - {"grower"}),
    (leaf("metrics.nps", "between", [-5, 20]), {"faller", "lapsed"}),
    (leaf("metrics.nps", "in", [60, -5, 7]), {"grower", "lapsed"}),
    # 30 days ago grower's latest was 30 and lapsed's -10; faller had sent nothing yet.
    (leaf("metrics.nps", "changed_by", 30, 30), {"grower"}),
    (leaf("metrics.nps", "changed_by_pct", 100, 30), {"grower"}),
    (leaf("metrics.nps", "changed_by_pct", 50, 30), {"grower", "lapsed"}),
    (leaf("metrics.nps", "changed_by", 10, 7), {"grower"}),
    (leaf("metrics.nps", "changed_by", -1, 7), set()),
]


def test_change_filters_and_custom_metrics_give_the_known_answers_both_ways(population):
    wrong = {}
    for condition, expected in CASES:
        found = population.matching(condition)
        if found != expected:
            wrong[str(condition)] = {"found": sorted(found), "expected": sorted(expected)}
    assert wrong == {}, wrong


@given(data=st.data())
@AGREEMENT
def test_change_filters_agree_both_ways_on_random_conditions(population, data):
    fields = [
        name for name in population.catalog if name.startswith(("usage.events", "usage.active", "metrics."))
    ]
    population.matching(data.draw(random_conditions(population, fields)))


def test_windowed_usage_metrics_and_custom_metrics_take_change_filters_and_others_not(population):
    catalog = population.catalog
    with_past = {
        name
        for name, spec in catalog.items()
        if spec.past is not None and name.startswith(("usage.", "metrics."))
    }
    assert with_past == {f"usage.{m}" for m in WINDOW_METRICS} | {"metrics.nps"}
    assert catalog["metrics.nps"].type == FieldType.NUMBER
    assert catalog["metrics.nps"].group == "Custom metrics"
    problems = validate(leaf("usage.engagement", "changed_by", 5, 30), catalog)
    assert [p.path for p in problems] == ["op"]
    with pytest.raises(InvalidCondition) as caught:
        population.compiled({"all": [leaf("usage.events_7d", "changed_by_pct", -50, 45)]})
    assert caught.value.field == "all.0.days"


def test_records_read_a_change_clauses_value_then_in_one_more_query(population):
    condition = {
        "all": [
            leaf("usage.events_7d", "changed_by_pct", -50, 30),
            leaf("metrics.nps", "changed_by", 5, 7),
        ]
    }
    grower = population.accounts.filter(external_id="grower")
    with CaptureQueriesContext(connection) as queries:
        records = account_records(population.catalog, grower, population.now, condition)
    # The accounts with their usage rows; nps now (the latest rows, and those read from the
    # series); nps then; events then.
    assert len(queries) == 5
    assert list(records.values()) == [
        {
            "usage.events_7d": 21,
            "usage.events_7d@30": 7,
            "metrics.nps": 60.0,
            "metrics.nps@7": 50.0,
        }
    ]


def test_a_change_filter_is_one_query_over_the_population(population, django_assert_num_queries):
    condition = {
        "any": [
            leaf("usage.events_7d", "changed_by_pct", -50, 30),
            leaf("metrics.nps", "changed_by", 5, 30),
        ]
    }
    with django_assert_num_queries(1):
        assert population.compiled(condition) == {"faller", "lapsed", "grower"}


def _relation(workspace, metric: str, day: int) -> dict[int, tuple]:
    sql, params = usage_then(workspace.pk, zone(workspace.time_zone), metric, day)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT r.id, r.now_value, r.then_value FROM ({sql}) r", params)  # noqa: S608
        return {row[0]: row[1:] for row in cursor.fetchall()}


def test_the_values_then_are_the_ones_health_recomputes_from_the_rollups(population):
    workspace = population.workspace
    ids = np.array(sorted(population.accounts.values_list("pk", flat=True)), dtype=np.int64)
    today = population.now.date().toordinal() - 719_163  # days since 1970-01-01
    days = [today - d for d in (1, 3, 7, 14, 30, 90)]
    recomputed = dict(PastUsage(workspace, ids, set(WINDOW_METRICS)).days(days))
    for metric in WINDOW_METRICS:
        for day in days:
            relation = _relation(workspace, metric, day)
            arrays = recomputed[day][metric]
            for i, pk in enumerate(ids.tolist()):
                then = relation[pk][1] if pk in relation else None
                if math.isnan(arrays[i]):
                    assert then is None, (metric, day, pk)
                else:
                    assert then == pytest.approx(arrays[i]), (metric, day, pk)


def test_as_of_today_the_relation_gives_the_live_row(population):
    workspace = population.workspace
    today = population.now.date().toordinal() - 719_163
    for metric in WINDOW_METRICS:
        relation = _relation(workspace, metric, today)
        assert len(relation) == len(ACCOUNTS) - 1  # quiet has no usage row
        for pk, (now, then) in relation.items():
            assert now == pytest.approx(then), (metric, pk)
