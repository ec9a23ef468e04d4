"""Metric inputs as they were on a past local day: usage recomputed from the rollups,
attributes as they are now with dates counted from that day, custom metrics over windows
ending on that day; today's values are the live ones (AccountUsage), read as before."""

import numpy as np
import pytest
from django.utils import timezone

from tend.accounts.actions.accounts import create_account
from tend.accounts.models import AttributeDefinition, AttributeType
from tend.health import sources
from tend.health.scoring import MetricRule
from tend.lib.dates import MS_PER_DAY, date_of
from tend.usage.actions.ingest import ingest
from tend.usage.ingest.facts import EventFact, Intake, MetricFact
from tend.usage.models import AccountUsage, Source
from tend.usage.past import PAST_METRICS, PastUsage, arrays
from tend.usage.rollups import roll_up

pytestmark = pytest.mark.django_db


def rule(source: str, **params) -> MetricRule:
    return MetricRule(
        id=source,
        source=source,
        params=tuple(sorted(params.items())),
        label=source,
        weight=100,
        grading="thresholds",
        direction="higher",
    )


def events(workspace, account: str, user: str, days: list[int], module="", seconds=None):
    facts = [
        EventFact(i, account, user, "Did a thing", module, day * MS_PER_DAY + 36_000_000,
                  duration=seconds)
        for i, day in enumerate(days)
    ]  # fmt: skip
    ingest(workspace, Intake(source=Source.API, received=len(facts), events=facts))


@pytest.fixture
def history(workspace, owner):
    """acme: users a and b a month ago, c in the last days; late: first seen 5 days ago;
    never: no usage. Every event at 10:00 UTC (the workspace's zone)."""
    t = sources.local_today(workspace)
    AttributeDefinition.objects.create(
        workspace=workspace, key="licenses", label="Licenses", type=AttributeType.NUMBER
    )
    AttributeDefinition.objects.create(
        workspace=workspace, key="renewal_date", label="Renewal", type=AttributeType.DATE
    )
    renewal = date_of(t + 20).isoformat()
    for external_id in ("acme", "late", "never"):
        create_account(
            owner.actor,
            {"external_id": external_id, "name": external_id, "status": "paying",
             "attributes": {"licenses": 4, "renewal_date": renewal}},
        )  # fmt: skip
    events(workspace, "acme", "a", [t - 40, t - 35, t - 31, t - 30, t - 20], "Reports", 60)
    events(workspace, "acme", "b", [t - 31, t - 30], "Dashboards")
    events(workspace, "acme", "c", [t - 2, t - 1], "Dashboards")
    events(workspace, "late", "d", [t - 5, t - 1])
    roll_up(now=timezone.now())
    return t


def ids_of(workspace) -> np.ndarray:
    from tend.accounts.models import Account

    order = ["acme", "late", "never"]
    found = dict(Account.objects.filter(workspace=workspace).values_list("external_id", "id"))
    return np.array([found[name] for name in order], dtype=np.int64)


def usage_on(workspace, day: int, *names: str) -> dict:
    rules = [rule(f"usage.{name}") for name in names]
    inputs = sources.read(workspace, ids_of(workspace), rules, day)
    return {name: inputs[f"usage.{name}"] for name in names}


def test_usage_metrics_as_of_a_month_ago(workspace, history):
    t = history
    found = usage_on(workspace, t - 30, *sorted(PAST_METRICS - {"engagement"}))
    acme = {name: values[0] for name, values in found.items()}
    assert acme == {
        "events_today": 2,  # a and b on T-30
        "events_yesterday": 2,  # a and b on T-31
        "events_3d": 4,
        "events_7d": 5,  # T-35, T-31 ×2, T-30 ×2
        "events_14d": 6,  # and T-40
        "events_30d": 6,
        "events_90d": 6,
        "active_days_14d": 4,  # T-40, T-35, T-31, T-30
        "active_users_7d": 2,
        "active_users_14d": 2,
        "active_users_30d": 2,
        "seconds_7d": 180.0,  # a's three events of 60 s in T-36..T-30
        "seconds_30d": 240.0,
        "days_since_last_seen": 0,
        "modules_30d": 2,
        "licence_utilisation": 0.5,  # 2 active users of 4 licences
        "visit_frequency": "weekly",  # active in T-36..T-30 and in T-43..T-37
    }
    # Not yet seen a month ago, or never: no metrics at all, as no live row existed then.
    for name, values in found.items():
        if name == "visit_frequency":
            assert values[1] is None and values[2] is None
        else:
            assert np.isnan(values[1]) and np.isnan(values[2]), name


def test_days_since_last_seen_and_windows_move_with_the_day(workspace, history):
    t = history
    assert usage_on(workspace, t - 25, "days_since_last_seen")["days_since_last_seen"][0] == 5
    assert usage_on(workspace, t - 3, "days_since_last_seen")["days_since_last_seen"][0] == 17
    later = usage_on(workspace, t - 3, "events_30d", "active_users_30d", "visit_frequency")
    # T-32..T-3: T-31, T-30 (a and b) and T-20.
    assert later["events_30d"][0] == 5 and later["active_users_30d"][0] == 2
    assert later["visit_frequency"][0] == "occasionally"
    late = usage_on(workspace, t - 5, "events_today", "days_since_last_seen")
    assert late["events_today"][1] == 1 and late["days_since_last_seen"][1] == 0


def test_the_recomputation_gives_todays_live_row_exactly(workspace, history):
    t = history
    ids = ids_of(workspace)
    names = set(PAST_METRICS)
    [(day, recomputed)] = list(PastUsage(workspace, ids, names).days([t]))
    live = sources.UsageSource()._live(workspace, ids, [rule(f"usage.{n}") for n in names], t)
    for name in names:
        expected, got = live[f"usage.{name}"], recomputed[name]
        if name == "visit_frequency":
            assert got.tolist() == expected.tolist()
        else:
            assert np.allclose(got, expected, equal_nan=True), (name, got, expected)
    assert AccountUsage.objects.get(account_id=ids[0]).engagement == recomputed["engagement"][0]


def test_today_is_read_from_the_live_rows_without_recomputing(workspace, history, monkeypatch):
    t = history

    def refuse(*args, **kwargs):
        raise AssertionError("today must not be recomputed")

    monkeypatch.setattr(arrays.PastUsage, "__init__", refuse)
    found = usage_on(workspace, t, "events_90d", "active_users_30d")
    usage = AccountUsage.objects.get(account__external_id="acme")
    assert found["events_90d"][0] == usage.events_90d == 9
    assert found["active_users_30d"][0] == usage.active_users_30d == 2


def test_dates_count_from_the_past_day_and_other_attributes_are_as_now(workspace, history):
    t = history
    ids = ids_of(workspace)
    rules = [
        rule("attributes.renewal_date", **{"as": "days_until"}),
        rule("attributes.renewal_date", **{"as": "days_since"}),
        rule("attributes.licenses"),
    ]
    days = dict(sources.read_days(workspace, ids, rules, [t - 10, t - 1, t]))
    until, since, licences = (r.input_key for r in rules)
    assert days[t - 10][until].tolist() == [30.0] * 3
    assert days[t - 10][since].tolist() == [-30.0] * 3
    assert days[t - 1][until].tolist() == [21.0] * 3
    assert days[t][until].tolist() == [20.0] * 3
    assert days[t - 10][licences].tolist() == [4.0] * 3
    for day in (t - 10, t - 1):
        single = sources.read(workspace, ids, rules, day)
        assert all(np.array_equal(single[k], days[day][k]) for k in single)


def test_custom_metrics_aggregate_over_the_window_ending_on_the_day(workspace, history):
    t = history
    values = [(t - 12, 10.0), (t - 11, 20.0), (t - 10, 40.0), (t - 5, 80.0)]
    facts = [MetricFact(i, "acme", "api_calls", value, day) for i, (day, value) in
             enumerate(values)]  # fmt: skip
    ingest(workspace, Intake(source=Source.API, received=len(facts), metrics=facts))
    ids = ids_of(workspace)
    aggregates = ("latest", "sum", "avg", "change", "change_pct")
    rules = [rule("metrics.api_calls", aggregate=a, days=7) for a in aggregates]
    two_days = [rule("metrics.api_calls", aggregate=a, days=2) for a in ("latest", "change")]
    days = dict(sources.read_days(workspace, ids, rules + two_days, [t - 10, t - 9, t - 4]))
    as_of = {a: days[t - 10][r.input_key][0] for a, r in zip(aggregates, rules, strict=True)}
    # T-16..T-10: 10, 20, 40.
    assert as_of == pytest.approx(
        {"latest": 40.0, "sum": 70.0, "avg": 70 / 3, "change": 30.0, "change_pct": 300.0}
    )
    # T-10..T-9: only 40.
    assert days[t - 9][two_days[0].input_key][0] == 40.0
    assert days[t - 9][two_days[1].input_key][0] == 0.0
    # T-10..T-4: 40 then 80.
    assert days[t - 4][rules[3].input_key][0] == 40.0
    assert np.isnan(days[t - 10][rules[1].input_key][1])  # no values: missing
    for day in (t - 10, t - 9, t - 4):
        single = sources.read(workspace, ids, rules + two_days, day)
        for key, column in single.items():
            assert np.allclose(column, days[day][key], equal_nan=True), (day, key)


def test_read_days_answers_each_day_once_in_order(workspace, history):
    t = history
    rules = [rule("usage.events_7d"), rule("attributes.licenses")]
    answered = [day for day, _ in sources.read_days(workspace, ids_of(workspace), rules,
                                                    [t, t - 30, t - 30, t - 90])]  # fmt: skip
    assert answered == [t - 90, t - 30, t]


def test_a_long_span_is_read_in_chunks_with_the_same_answers(workspace, history, monkeypatch):
    t = history
    ids = ids_of(workspace)
    names = {"events_7d", "active_users_14d", "days_since_last_seen", "modules_30d"}
    days = list(range(t - 45, t))
    whole = dict(PastUsage(workspace, ids, names).days(days))
    monkeypatch.setattr(arrays, "CHUNK_DAYS", 7)
    chunked = dict(PastUsage(workspace, ids, names).days(days))
    for day in days:
        for name in names:
            assert np.array_equal(whole[day][name], chunked[day][name], equal_nan=True)


def test_distinct_counts_over_windows_count_each_key_once():
    rows = np.array([0, 0, 0, 1, 0])
    keys = np.array([7, 7, 8, 7, 7])
    days = np.array([0, 1, 1, 1, 5])
    counts = arrays.distinct_in_windows(rows, keys, days, (2, 7), 3)
    # Row 0: key 7 on days 0, 1, 5 and key 8 on day 1; windows of three days.
    assert counts[0].tolist() == [1, 2, 2, 2, 0, 1, 1]
    assert counts[1].tolist() == [0, 1, 1, 1, 0, 0, 0]


def test_a_workspace_without_any_usage_has_no_past_usage_metrics(workspace, owner):
    account = create_account(owner.actor, {"external_id": "acme", "name": "Acme"})
    t = sources.local_today(workspace)
    names = sorted(PAST_METRICS)
    inputs = sources.read(
        workspace, np.array([account.pk]), [rule(f"usage.{n}") for n in names], t - 3
    )
    assert inputs["usage.visit_frequency"].tolist() == [None]
    assert all(np.isnan(inputs[f"usage.{n}"][0]) for n in names if n != "visit_frequency")
