"""Backfilling health history: the scorer replayed over past days on the usage as it was,
writing a snapshot and a rank change where something changed, dated that day; recorded
history is never rewritten."""

import datetime

import pytest

from tend.accounts.actions.accounts import create_account
from tend.health import queries, sources
from tend.health.actions.history import RUN_HOUR, backfill_history
from tend.health.actions.profiles import update_profile
from tend.health.actions.scoring import score_workspace
from tend.health.models import AccountHealth, HealthChange, HealthProfile, HealthSnapshot
from tend.health.tests.churn_world import noon, use
from tend.lib.dates import date_of
from tend.usage.rollups import roll_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(workspace, owner):
    """acme: used every day from T-60 to T-31, then not at all; beta: every day from T-20."""
    t = sources.local_today(workspace)
    for external_id in ("acme", "beta"):
        create_account(owner.actor, {"external_id": external_id, "name": external_id,
                                     "status": "paying"})  # fmt: skip
    use(workspace, "acme", list(range(t - 60, t - 30)))
    use(workspace, "beta", list(range(t - 20, t)))
    roll_up()
    return t


def at(day: int) -> datetime.datetime:
    return datetime.datetime.combine(date_of(day), datetime.time(RUN_HOUR), tzinfo=datetime.UTC)


def snapshots(external_id: str) -> list[tuple]:
    return list(
        HealthSnapshot.objects.filter(account__external_id=external_id)
        .order_by("day")
        .values_list("day", "rank", "score")
    )


def changes(external_id: str) -> list[tuple]:
    return list(
        HealthChange.objects.filter(account__external_id=external_id)
        .order_by("changed_at", "id")
        .values_list("changed_at", "from_rank", "to_rank")
    )


def test_each_day_is_scored_on_the_usage_of_that_day_and_changes_are_kept(workspace, history):
    t = history
    run = backfill_history(workspace, 30)
    assert (run.days, run.snapshots, run.rank_changes) == (30, 6, 6)
    # acme: 13 active days in the 14 up to T-30 (Good); fewer than 4 from T-20 (Average);
    # none in the 14 up to T-17 (Poor).
    assert snapshots("acme") == [(t - 30, "good", 100.0), (t - 20, "average", 60.0),
                                 (t - 17, "poor", 0.0)]  # fmt: skip
    # beta: not seen before T-20 (no usage: Poor), then 1 active day, then 4 by T-17.
    assert snapshots("beta") == [(t - 30, "poor", 0.0), (t - 20, "average", 60.0),
                                 (t - 17, "good", 100.0)]  # fmt: skip
    assert changes("acme") == [
        (at(t - 30), None, "good"),
        (at(t - 20), "good", "average"),
        (at(t - 17), "average", "poor"),
    ]
    health = AccountHealth.objects.get(account__external_id="acme")
    assert (health.rank, health.rank_since) == ("poor", at(t - 17))


def test_scoring_today_carries_on_from_the_replayed_history(workspace, history):
    backfill_history(workspace, 30)
    run = score_workspace(workspace)
    assert (run.changed, run.rank_changes) == (0, 0)  # nothing moved since yesterday
    points, rank_changes = queries.history(
        AccountHealth.objects.get(account__external_id="beta").account, days=30
    )
    assert [p.rank for p in points[:10]] == ["poor"] * 9 + ["average"]  # T-29 … T-20
    assert points[-1].rank == "good" and len(rank_changes) == 2  # T-20 and T-17


def test_the_version_in_force_each_day_scores_it(workspace, history, owner):
    t = history
    profile = HealthProfile.objects.get(workspace=workspace, is_default=True)
    first = profile.current_version
    stricter = {"kind": "rules", "metrics": [{"source": "usage.active_days_14d", "good": 10,
                                              "poor": 1, "missing": "poor"}]}  # fmt: skip
    update_profile(owner.actor, profile, {"definition": stricter})
    profile.refresh_from_db()
    second = profile.versions.get(number=2)
    type(first).objects.filter(pk=first.pk).update(created_at=noon(t - 100))
    type(second).objects.filter(pk=second.pk).update(created_at=noon(t - 12))
    backfill_history(workspace, 30)
    beta = list(
        HealthSnapshot.objects.filter(account__external_id="beta")
        .order_by("day")
        .values_list("day", "rank", "version__number")
    )
    # From T-12 beta (9 active days) is Average under the stricter version 2, Good at 10.
    assert beta == [(t - 30, "poor", 1), (t - 20, "average", 1), (t - 17, "good", 1),
                    (t - 12, "average", 2), (t - 11, "good", 2)]  # fmt: skip
    # acme's rank did not move on T-12, but the version did: a snapshot says so.
    assert snapshots("acme")[-1] == (t - 12, "poor", 0.0)


def test_recorded_history_is_never_rewritten(workspace, history):
    t = history
    score_workspace(workspace)  # today's snapshot and current health exist
    before = AccountHealth.objects.get(account__external_id="acme")
    run = backfill_history(workspace, 30)
    assert run.days == 30  # T-30 … T-1, all before today's snapshot
    assert HealthSnapshot.objects.filter(day=t).count() == 2
    assert AccountHealth.objects.get(account__external_id="acme").computed_at == before.computed_at
    again = backfill_history(workspace, 30)
    assert (again.days, again.snapshots) == (0, 0)
