"""The dashboard's trend: paying accounts by rank on each day, where an account's state on a
day is its latest snapshot on or before it; worked out by hand on a small history."""

import pytest

from tend.accounts.actions.accounts import create_account
from tend.health.distribution import population_score, trend
from tend.health.models import HealthSnapshot
from tend.test import make_persona, make_workspace

pytestmark = pytest.mark.django_db
TODAY = 20_000  # a local day number; the history is placed around it


def snapshots(account, history: dict[int, str | None]) -> None:
    """``history``: days before TODAY → the rank stored that day (None: unscored)."""
    for days_ago, rank in history.items():
        HealthSnapshot.objects.create(
            workspace=account.workspace,
            account=account,
            day=TODAY - days_ago,
            rank=rank,
            score={"good": 100.0, "average": 60.0, "poor": 0.0}.get(rank),
        )


@pytest.fixture
def history(owner, outsider):
    """Five days (TODAY-4 … TODAY) of four paying accounts, a trial and another workspace:

    ====== ======================================= =========================================
    acct   snapshots (days ago: rank)               state on TODAY-4, -3, -2, -1, TODAY
    ====== ======================================= =========================================
    a      30: poor, 10: good, 2: poor              good, good, poor, poor, poor
    b      4: average, 1: good                      average, average, average, good, good
    c      20: poor, 12: average                    average throughout
    e      3: unscored, 0: good                     —, unscored, unscored, unscored, good
    trial  3: good                                  (not paying: not counted)
    other  4: good  (another workspace)             (not counted)
    ====== ======================================= =========================================
    """

    def paying(key, status="paying", persona=owner):
        return create_account(
            persona.actor, {"external_id": key, "name": key.upper(), "status": status}
        )

    snapshots(paying("a"), {30: "poor", 10: "good", 2: "poor"})
    snapshots(paying("b"), {4: "average", 1: "good"})
    snapshots(paying("c"), {20: "poor", 12: "average"})
    snapshots(paying("e"), {3: None, 0: "good"})
    snapshots(paying("trial", status="trial"), {3: "good"})
    snapshots(paying("other", persona=outsider), {4: "good"})


def test_each_day_counts_every_paying_accounts_latest_snapshot_on_or_before_it(workspace, history):
    result = trend(workspace, days=5, today=TODAY)
    assert [d.toordinal() for d in result.dates] == [
        719163 + TODAY - 4 + i for i in range(5)
    ]  # 1970-01-01 is ordinal 719163
    assert result.counts == {
        "good": [1, 1, 0, 1, 2],
        "average": [2, 2, 2, 1, 1],
        "poor": [0, 0, 1, 1, 1],
        "unscored": [0, 1, 1, 1, 0],
    }


def test_the_population_score_follows_the_counts(workspace, history):
    result = trend(workspace, days=5, today=TODAY)
    # (100·good + 50·average) / ranked: day one (100 + 100) / 3, today (200 + 50) / 4.
    assert result.population == [66.7, 66.7, 33.3, 50.0, 62.5]


def test_counts_a_given_number_of_days_ago_or_none_out_of_range(workspace, history):
    result = trend(workspace, days=5, today=TODAY)
    assert result.on(0) == {"good": 2, "average": 1, "poor": 1, "unscored": 0}
    assert result.on(3) == {"good": 1, "average": 2, "poor": 0, "unscored": 1}
    assert result.on(5) is None


def test_a_day_before_any_score_has_no_counts_to_compare_with(workspace, history):
    early = trend(workspace, days=40, today=TODAY)
    # 30 days ago only "a" had a snapshot (poor); 35 days ago nobody had one.
    assert early.on(30) == {"good": 0, "average": 0, "poor": 1, "unscored": 0}
    assert early.on(35) is None
    assert early.has_history


def test_a_workspace_without_snapshots_has_an_empty_trend(db):
    stranger = make_persona(make_workspace("Empty"))
    result = trend(stranger.workspace, days=3, today=TODAY)
    assert result.counts["good"] == [0, 0, 0]
    assert not result.has_history
    assert result.population == [None, None, None]


def test_the_trend_takes_two_queries_whatever_the_history(
    workspace, history, django_assert_num_queries
):
    with django_assert_num_queries(2):
        trend(workspace, days=90, today=TODAY)


def test_population_score_is_100_when_all_good_and_0_when_all_poor():
    assert population_score({"good": 3, "average": 0, "poor": 0}) == 100
    assert population_score({"good": 0, "average": 0, "poor": 5}) == 0
    assert population_score({"good": 1, "average": 2, "poor": 1}) == 50
    assert population_score({"good": 0, "average": 0, "poor": 0, "unscored": 4}) is None
