"""The rollup job: events counted once, on the right local day, into the right windows."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from tend.accounts.models import Account, AttributeDefinition, AttributeType, EndUser
from tend.lib.dates import day_number, to_ms
from tend.usage import rollups
from tend.usage.actions.ingest import ingest
from tend.usage.ingest.facts import EventFact, Intake
from tend.usage.models import (
    AccountActivityDay,
    AccountDay,
    AccountUsage,
    RollupState,
    Source,
    UserDay,
    UserUsage,
)
from tend.usage.rollups import counting, refreshing

NOW = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
pytestmark = pytest.mark.django_db


def send(workspace, *events):
    """Ingest events given as (account, user, activity, module, days_ago[, extra fields])."""
    facts = []
    for index, (account, user, activity, module, days_ago, *extra) in enumerate(events):
        fields = extra[0] if extra else {}
        ts = to_ms(NOW - datetime.timedelta(days=days_ago))
        facts.append(EventFact(index, account, user, activity, module, ts, **fields))
    return ingest(workspace, Intake(source=Source.API, received=len(facts), events=facts))


def usage_of(external_id) -> AccountUsage:
    return AccountUsage.objects.get(account__external_id=external_id)


def test_every_event_is_counted_once_however_often_the_rollup_runs(workspace):
    send(workspace, *[("acme", "u1", "Logged in", "", 0)] * 5)
    first = rollups.roll_up(now=NOW)
    second = rollups.roll_up(now=NOW)
    assert (first.events, second.events) == (5, 0)
    assert AccountDay.objects.get().events == 5
    assert RollupState.objects.get().last_event_id == max_event_id()


def test_small_chunks_count_the_same_as_one(workspace, monkeypatch):
    events = [("acme", f"u{i % 4}", "Viewed report", "Reports", i % 9) for i in range(50)]
    send(workspace, *events)
    monkeypatch.setitem(rollups.CHUNK, connection.vendor, 7)
    monkeypatch.setattr(rollups, "CATCH_UP_CHUNKS", 1000)
    result = rollups.roll_up(now=NOW)
    assert result.chunks == 8 and result.events == 50
    assert sum(AccountDay.objects.values_list("events", flat=True)) == 50
    assert sum(UserDay.objects.values_list("events", flat=True)) == 50
    assert sum(AccountActivityDay.objects.values_list("events", flat=True)) == 50


def test_a_large_backlog_is_counted_in_a_few_big_chunks(workspace, monkeypatch):
    send(workspace, *[("acme", "u1", "Logged in", "", 0)] * 50)
    monkeypatch.setitem(rollups.CHUNK, connection.vendor, 1)
    result = rollups.roll_up(now=NOW)
    assert result.chunks == rollups.CATCH_UP_CHUNKS and result.events == 50


def test_a_rollup_that_fails_midway_counts_nothing_and_the_next_counts_everything(
    workspace, monkeypatch
):
    send(workspace, *[("acme", "u1", "Logged in", "", 1)] * 3)
    real = counting._aggregate

    def aggregate_then_die(low, high):
        real(low, high)
        raise RuntimeError("worker killed")

    monkeypatch.setattr(counting, "_aggregate", aggregate_then_die)
    with pytest.raises(RuntimeError):
        rollups.roll_up(now=NOW)
    assert not AccountDay.objects.exists()
    assert not RollupState.objects.filter(last_event_id__gt=0).exists()
    monkeypatch.setattr(counting, "_aggregate", real)
    rollups.roll_up(now=NOW)
    assert AccountDay.objects.get().events == 3


def test_windows_count_events_by_day_with_known_answers(workspace):
    # days ago → events: 0 → 2, 1 → 3, 2 → 1, 5 → 4, 10 → 1, 20 → 2, 60 → 5, 100 → 7 (too old)
    history = {0: 2, 1: 3, 2: 1, 5: 4, 10: 1, 20: 2, 60: 5, 100: 7}
    send(
        workspace,
        *[("acme", "u1", "Logged in", "", days) for days, n in history.items() for _ in range(n)],
    )
    rollups.roll_up(now=NOW)
    usage = usage_of("acme")
    assert (usage.events_today, usage.events_yesterday, usage.events_3d) == (2, 3, 6)
    assert (usage.events_7d, usage.events_14d, usage.events_30d, usage.events_90d) == (
        10,
        11,
        13,
        18,
    )
    assert usage.active_days_14d == 5
    assert usage.first_seen_at == NOW - datetime.timedelta(days=100)
    assert usage.last_seen_at == NOW
    assert usage.day == day_number(NOW.date()) and usage.dirty == 0


def test_time_spent_sums_durations_where_they_are_sent(workspace):
    send(
        workspace,
        ("acme", "u1", "Session", "", 0, {"duration": 120.0}),
        ("acme", "u1", "Session", "", 6, {"duration": 30.5}),
        ("acme", "u1", "Session", "", 20, {"duration": 600.0}),
        ("acme", "u1", "Logged in", "", 0),
    )
    rollups.roll_up(now=NOW)
    usage = usage_of("acme")
    assert (usage.seconds_7d, usage.seconds_30d) == (150.5, 750.5)


def test_active_users_modules_and_licence_utilisation(workspace):
    AttributeDefinition.objects.create(
        workspace=workspace, key="licenses", label="Licenses", type=AttributeType.NUMBER
    )
    send(
        workspace,
        ("acme", "ann", "Created report", "Reports", 0),
        ("acme", "bob", "Viewed dashboard", "Dashboards", 3),
        ("acme", "cem", "Viewed dashboard", "Dashboards", 10),
        ("acme", "dee", "Added integration", "Integrations", 25),
        ("acme", "eve", "Logged in", "", 45),
    )
    Account.objects.filter(external_id="acme").update(attributes={"licenses": 10})
    rollups.roll_up(now=NOW)
    usage = usage_of("acme")
    assert (usage.active_users_7d, usage.active_users_14d, usage.active_users_30d) == (2, 3, 4)
    assert usage.modules_30d == ["Dashboards", "Integrations", "Reports"]
    assert usage.licence_utilisation == 0.3


def test_visit_frequency_of_accounts_with_different_rhythms(workspace):
    send(
        workspace,
        *[("daily", "u", "Logged in", "", d) for d in range(10)],
        *[("weekly", "u2", "Logged in", "", d) for d in (1, 9)],
        *[("occasional", "u3", "Logged in", "", 20)],
        *[("inactive", "u4", "Logged in", "", 45)],
    )
    rollups.roll_up(now=NOW)
    assert {
        u.account.external_id: u.visit_frequency
        for u in AccountUsage.objects.select_related("account")
    } == {
        "daily": "daily",
        "weekly": "weekly",
        "occasional": "occasionally",
        "inactive": "inactive",
    }


def test_engagement_ranks_accounts_against_peers_of_the_same_status(workspace):
    send(
        workspace,
        *[("busy", "u", "Logged in", "", d % 14) for d in range(140)],
        *[("quiet", "v", "Logged in", "", d % 14) for d in range(14)],
        *[("idle", "w", "Logged in", "", 3)],
    )
    rollups.roll_up(now=NOW)
    scores = {
        u.account.external_id: u.engagement for u in AccountUsage.objects.select_related("account")
    }
    assert scores["idle"] == 0  # under one event a day on average
    assert scores["busy"] > scores["quiet"] > 0
    assert scores["busy"] == 85  # top of its peers (100) with no baseline yet (50)


def test_end_users_get_their_own_windows_and_frequency(workspace):
    send(workspace, *[("acme", "ann", "Logged in", "", d) for d in (0, 1, 2, 3, 4, 7, 8, 9)])
    rollups.roll_up(now=NOW)
    usage = UserUsage.objects.get(end_user__external_id="ann")
    assert (usage.events_today, usage.events_7d, usage.events_14d, usage.active_days_14d) == (
        1,
        5,
        8,
        8,
    )
    assert usage.visit_frequency == "daily"


def test_days_are_counted_in_the_workspace_time_zone(workspace):
    workspace.time_zone = "Asia/Tokyo"  # UTC+9, no daylight saving
    workspace.save()
    late_utc = NOW.replace(hour=20)  # already the next day in Tokyo
    facts = [EventFact(0, "acme", "u1", "Logged in", "", to_ms(late_utc))]
    ingest(workspace, Intake(source=Source.API, received=1, events=facts))
    rollups.roll_up(now=late_utc)
    assert AccountDay.objects.get().day == day_number(NOW.date()) + 1


def test_windows_roll_forward_at_midnight_without_new_events(workspace):
    send(workspace, ("acme", "u1", "Logged in", "", 0))
    rollups.roll_up(now=NOW)
    assert usage_of("acme").events_today == 1
    rollups.roll_up(now=NOW + datetime.timedelta(days=1))
    usage = usage_of("acme")
    assert (usage.events_today, usage.events_yesterday, usage.events_7d) == (0, 1, 1)
    rollups.roll_up(now=NOW + datetime.timedelta(days=40))
    usage = usage_of("acme")
    assert (usage.events_30d, usage.events_90d, usage.visit_frequency) == (0, 1, "inactive")


def test_a_row_touched_again_while_refreshing_stays_dirty(workspace, monkeypatch):
    send(workspace, ("acme", "u1", "Logged in", "", 0))
    real = refreshing._write

    def write_after_a_new_event_arrived(model, *args):
        model.objects.update(dirty=99)  # the rollup counted more events meanwhile
        return real(model, *args)

    monkeypatch.setattr(refreshing, "_write", write_after_a_new_event_arrived)
    rollups.roll_up(now=NOW)
    assert usage_of("acme").dirty == 99  # not overwritten with stale figures
    monkeypatch.setattr(refreshing, "_write", real)
    rollups.roll_up(now=NOW)
    assert usage_of("acme").dirty == 0 and usage_of("acme").events_today == 1


@pytest.mark.django_db(transaction=True)
def test_accounts_and_end_users_are_refreshed_side_by_side_outside_a_transaction(workspace):
    # On PostgreSQL the end users are refreshed on a second connection meanwhile (refresh()).
    send(workspace, ("acme", "u1", "Logged in", "", 0), ("acme", "u2", "Ran report", "", 1))
    assert not connection.in_atomic_block
    result = rollups.roll_up(now=NOW)
    assert (result.accounts_refreshed, result.users_refreshed) == (1, 2)
    assert (usage_of("acme").events_7d, usage_of("acme").active_users_7d) == (2, 2)
    assert sorted(UserUsage.objects.values_list("events_today", "events_7d")) == [(0, 1), (1, 1)]
    assert not UserUsage.objects.filter(dirty__gt=0).exists()


def test_events_of_a_deleted_end_user_are_still_counted_for_the_account(workspace):
    send(workspace, ("acme", "gone", "Logged in", "", 0), ("acme", "stays", "Logged in", "", 0))
    EndUser.objects.filter(external_id="gone").delete()
    rollups.roll_up(now=NOW)
    assert usage_of("acme").events_today == 2
    assert usage_of("acme").active_users_7d == 1
    assert UserDay.objects.count() == 1


def test_deleting_an_account_deletes_its_events_and_rollups(workspace):
    send(workspace, ("acme", "u1", "Logged in", "", 0), ("other", "u2", "Logged in", "", 0))
    rollups.roll_up(now=NOW)
    Account.objects.filter(external_id="acme").delete()
    assert AccountDay.objects.count() == 1 and AccountUsage.objects.count() == 1
    assert not UserDay.objects.filter(account__external_id="acme").exists()


def test_workspaces_are_counted_apart(workspace, other_workspace):
    send(workspace, ("acme", "u1", "Logged in", "", 0))
    send(other_workspace, ("acme", "u1", "Logged in", "", 0), ("acme", "u1", "Logged in", "", 0))
    rollups.roll_up(now=NOW)
    assert AccountUsage.objects.get(workspace=workspace).events_today == 1
    assert AccountUsage.objects.get(workspace=other_workspace).events_today == 2


def test_ingestion_asks_for_a_rollup_soon(workspace, monkeypatch):
    from tend.jobs.models import Job

    monkeypatch.setattr(rollups, "_last_request", 0.0)
    send(workspace, ("acme", "u1", "Logged in", "", 0))
    job = Job.objects.get(kind=rollups.JOB, status="queued")
    assert job.due_at <= timezone.now() + rollups.REQUEST_DELAY


def max_event_id() -> int:
    from tend.usage.models import UsageEvent

    return UsageEvent.objects.order_by("-id").values_list("id", flat=True).first()


def test_after_a_large_backlog_the_planner_statistics_are_refreshed(workspace, monkeypatch):
    analyzed = []
    monkeypatch.setattr(rollups, "ANALYZE_AFTER_EVENTS", 2)
    real = rollups.refresh_statistics
    monkeypatch.setattr(rollups, "refresh_statistics", lambda: analyzed.append(1) or real())
    send(workspace, ("acme", "u1", "Logged in", "", 0))
    rollups.roll_up(now=NOW)
    assert analyzed == []  # one event: not a backlog
    send(workspace, *[("acme", "u1", "Logged in", "", 0)] * 2)
    rollups.roll_up(now=NOW)
    assert analyzed == [1] and usage_of("acme").events_today == 3
