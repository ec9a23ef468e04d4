"""Each account's latest value of a custom metric (``MetricLatest``): kept by every write of
metric values — a new day, a correction of an older or of the latest day, values sent ahead
for a later day, an account or a metric deleted — and read by ``metrics.<key>`` the same
way compiled and evaluated, with the answer the series gives ("the latest value sent for a
day up to today") on every day, before and after the rollup job moves rows whose value sent
ahead has come."""

import datetime
import importlib
import random
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from tend.accounts.actions.accounts import create_account, delete_account
from tend.accounts.conditions import account_catalog, condition_now
from tend.accounts.models import Account
from tend.accounts.tests.condition_checks import Population
from tend.lib.conditions import past_key
from tend.usage.actions.housekeeping import delete_orphans
from tend.usage.actions.ingest import ingest
from tend.usage.actions.metrics import advance_latest_values
from tend.usage.ingest.facts import Intake, MetricFact
from tend.usage.models import Metric, MetricLatest, MetricValue, Source
from tend.usage.queries.metrics import latest_metric_values
from tend.usage.tests.usage_history import NOW

pytestmark = pytest.mark.django_db

T = (NOW.date() - datetime.date(1970, 1, 1)).days
ACCOUNTS = ["acme", "beta", "gamma", "delta", "echo"]


@pytest.fixture
def ws(owner):
    for external_id in ACCOUNTS:
        create_account(owner.actor, {"external_id": external_id, "name": external_id})
    return owner.workspace


def send(workspace, values, metric="nps") -> None:
    """``values``: (account, day number, value) written through ingestion."""
    facts = [
        MetricFact(index, account, metric, value, day)
        for index, (account, day, value) in enumerate(values)
    ]
    report = ingest(workspace, Intake(source=Source.API, received=len(facts), metrics=facts))
    assert report.stored == len(facts)


def send_on(monkeypatch, moment, workspace, values, metric="nps") -> None:
    """As :func:`send`, written at ``moment`` (the workspace's today is then its day)."""
    with monkeypatch.context() as patched:
        patched.setattr(timezone, "now", lambda: moment)
        send(workspace, values, metric)


def row(account: str, metric="nps") -> tuple | None:
    found = MetricLatest.objects.filter(account__external_id=account, metric__key=metric).first()
    return None if found is None else (found.day, found.value, found.next_day)


def truth(workspace, day: int, metric="nps") -> dict[str, float]:
    """The latest value up to ``day`` per account, from the series itself."""
    latest = {}
    for account, value in (
        MetricValue.objects.filter(workspace=workspace, metric__key=metric, day__lte=day)
        .order_by("day")
        .values_list("account__external_id", "value")
    ):
        latest[account] = value
    return latest


def read(workspace, day: int, metric="nps") -> dict[str, float]:
    """What the latest rows answer for ``day`` (with their fall-back to the series)."""
    metric_id = Metric.objects.get(workspace=workspace, key=metric).pk
    names = dict(Account.objects.filter(workspace=workspace).values_list("pk", "external_id"))
    found = {}
    for part in latest_metric_values(workspace.pk, metric_id, day):
        for account_id, value in part.values_list("account_id", "latest"):
            assert names[account_id] not in found  # the parts hold different accounts
            if value is not None:
                found[names[account_id]] = value
    return found


def population(workspace, days_ahead: int = 0) -> Population:
    moment = NOW + datetime.timedelta(days=days_ahead)
    return Population(workspace, account_catalog(workspace), condition_now(workspace, moment))


def equal_to(value):
    return {"field": "metrics.nps", "op": "eq", "value": value}


IS_SET = {"field": "metrics.nps", "op": "is_set"}


def test_a_value_for_a_new_day_becomes_the_latest(ws):
    send(ws, [("acme", T - 2, 10.0)])
    assert row("acme") == (T - 2, 10.0, None)
    send(ws, [("acme", T - 1, 20.0)])
    assert row("acme") == (T - 1, 20.0, None)
    assert population(ws).matching(equal_to(20)) == {"acme"}


def test_correcting_an_older_day_keeps_the_latest_and_corrects_the_past(ws):
    send(ws, [("acme", T - 1, 20.0), ("acme", T - 3, 5.0)])
    send(ws, [("acme", T - 3, 7.0)])
    assert row("acme") == (T - 1, 20.0, None)
    people = population(ws)
    assert people.matching(equal_to(20)) == {"acme"}
    acme = next(r for r in people.records.values() if r["metrics.nps"] is not None)
    # Three days ago, the latest value was the corrected one.
    assert acme[past_key("metrics.nps", 3)] == 7.0


def test_correcting_the_latest_day_replaces_its_value(ws):
    send(ws, [("acme", T - 1, 20.0), ("acme", T - 4, 3.0)])
    send(ws, [("acme", T - 1, 25.0)])
    assert row("acme") == (T - 1, 25.0, None)
    assert population(ws).matching(equal_to(25)) == {"acme"}
    assert population(ws).matching(equal_to(20)) == set()


def test_a_batch_keeps_its_latest_day_and_its_earliest_day_ahead(ws):
    send(
        ws,
        [("acme", T - 5, 1.0), ("acme", T, 2.0), ("acme", T - 2, 3.0), ("acme", T + 4, 4.0),
         ("acme", T + 2, 5.0)],
    )  # fmt: skip
    assert row("acme") == (T, 2.0, T + 2)


def test_a_value_sent_ahead_counts_from_its_day_before_and_after_the_job(ws):
    send(ws, [("acme", T, 5.0), ("acme", T + 2, 9.0), ("beta", T + 1, 3.0)])
    assert row("acme") == (T, 5.0, T + 2)
    # Only a value ahead: no latest value yet.
    assert row("beta") == (None, None, T + 1)
    assert population(ws).matching(IS_SET) == {"acme"}
    assert population(ws, 1).matching(equal_to(5)) == {"acme"}
    assert population(ws, 1).matching(equal_to(3)) == {"beta"}
    # The day has come, the job has not run: both ways read the series for those rows.
    assert population(ws, 2).matching(equal_to(9)) == {"acme"}
    assert advance_latest_values(now=NOW + datetime.timedelta(days=1)) == 1
    assert (row("acme"), row("beta")) == ((T, 5.0, T + 2), (T + 1, 3.0, None))
    assert advance_latest_values(now=NOW + datetime.timedelta(days=2)) == 1
    assert row("acme") == (T + 2, 9.0, None)
    assert population(ws, 2).matching(equal_to(9)) == {"acme"}
    # A past day before the latest is read from the series.
    assert population(ws).matching(equal_to(5)) == {"acme"}
    assert advance_latest_values(now=NOW + datetime.timedelta(days=2)) == 0


def test_a_write_after_a_value_ahead_came_but_before_the_job_stays_exact(ws, monkeypatch):
    send(ws, [("acme", T, 5.0), ("acme", T + 2, 9.0), ("acme", T + 5, 11.0)])
    # Three days later, before the job ran: a value for that day, and one for an older day.
    send_on(monkeypatch, NOW + datetime.timedelta(days=3), ws, [("acme", T + 3, 4.0)])
    send_on(monkeypatch, NOW + datetime.timedelta(days=3), ws, [("acme", T + 1, 6.0)])
    for ahead, expected in [(0, 5.0), (1, 6.0), (2, 9.0), (3, 4.0), (4, 4.0), (5, 11.0)]:
        assert read(ws, T + ahead) == {"acme": expected}, ahead
        assert population(ws, ahead).matching(equal_to(expected)) == {"acme"}, ahead
    advance_latest_values(now=NOW + datetime.timedelta(days=3))
    assert row("acme") == (T + 3, 4.0, T + 5)


def test_deleting_an_account_deletes_its_latest_values(ws, owner):
    send(ws, [("acme", T, 1.0), ("beta", T, 2.0)])
    delete_account(owner.actor, Account.objects.get(workspace=ws, external_id="acme"))
    assert list(MetricLatest.objects.values_list("account__external_id", flat=True)) == ["beta"]
    assert population(ws).matching(IS_SET) == {"beta"}


def test_deleting_a_metric_deletes_its_latest_values(ws):
    send(ws, [("acme", T, 1.0)], metric="nps")
    send(ws, [("acme", T, 2.0)], metric="seats")
    Metric.objects.get(workspace=ws, key="nps").delete()
    assert list(MetricLatest.objects.values_list("metric__key", "value")) == [("seats", 2.0)]


def test_the_nightly_prune_deletes_latest_values_of_accounts_deleted_meanwhile(ws):
    send(ws, [("acme", T, 1.0)])
    # A row written for an account deleted meanwhile (no constraint stops it).
    gone = Account.objects.order_by("-pk").first().pk + 1
    nps = Metric.objects.get(workspace=ws, key="nps")
    MetricLatest.objects.create(workspace=ws, account_id=gone, metric=nps, day=T, value=2.0)
    delete_orphans()
    assert list(MetricLatest.objects.values_list("account__external_id", flat=True)) == ["acme"]


def test_the_migration_fills_the_rows_the_writes_keep(ws):
    send(
        ws,
        [("acme", T - 3, 1.0), ("acme", T - 1, 2.0), ("beta", T + 2, 3.0), ("gamma", T, 4.0),
         ("gamma", T + 1, 5.0), ("gamma", T + 3, 6.0)],
    )  # fmt: skip
    send(ws, [("acme", T - 2, 7.0)], metric="seats")

    def rows():
        return sorted(
            MetricLatest.objects.values_list(
                "workspace_id", "account_id", "metric_id", "day", "value", "next_day"
            )
        )

    kept = rows()
    assert len(kept) == 4
    MetricLatest.objects.all().delete()
    migration = importlib.import_module(
        "tend.usage.migrations.0004_metric_latest_and_user_day_index"
    )
    migration.fill_latest_values(apps, SimpleNamespace(connection=connection))
    assert rows() == kept


def test_random_writes_keep_every_answer_true_both_ways(ws, monkeypatch):
    """Writes on days moving forward — new days, corrections, values ahead — with the job run
    now and then: on every day around the write, the rows answer what the series does, and
    the compiled condition and the evaluator agree."""
    rng = random.Random(20261130)
    write_day = T
    for step in range(30):
        write_day += rng.choice([0, 0, 1, 2])
        moment = NOW + datetime.timedelta(days=write_day - T)
        values = {
            (rng.choice(ACCOUNTS), write_day + rng.randint(-8, 3)): float(rng.randint(-3, 6))
            for _ in range(rng.randint(1, 4))
        }
        send_on(monkeypatch, moment, ws, [(a, d, v) for (a, d), v in values.items()])
        if rng.random() < 0.3:
            advance_latest_values(now=moment)
        for day in range(write_day - 6, write_day + 4):
            assert read(ws, day) == truth(ws, day), (step, day)
        if step % 6 == 5:
            for ahead in (-4, 0, 2):
                people = population(ws, write_day - T + ahead)
                expected = truth(ws, write_day + ahead)
                assert people.matching(IS_SET) == set(expected)
                for value in {0.0, 2.0, *expected.values()}:
                    assert people.matching(equal_to(value)) == {
                        a for a, v in expected.items() if v == value
                    }
                    people.matching({"field": "metrics.nps", "op": "gt", "value": value})
                    people.matching(
                        {"field": "metrics.nps", "op": "changed_by", "value": 1, "days": 3}
                    )
