"""The back-test: churned accounts scored as they were before they churned, against the
accounts that stayed; figures worked out by hand (see ``churn_world``)."""

import numpy as np
import pytest

from tend.accounts.models import Account
from tend.health import backtest as bt
from tend.health.actions.profiles import update_profile
from tend.health.models import HealthProfile, HealthSnapshot
from tend.health.scoring import parse_definition
from tend.health.tests import churn_world
from tend.lib.dates import date_of
from tend.lib.errors import InvalidInput

pytestmark = pytest.mark.django_db

# --- the figures, pure -----------------------------------------------------------------------


def test_auc_is_the_share_of_pairs_where_the_churned_account_is_riskier_ties_half():
    # Pairs (churned, stayed): 3>1, 3>2, 2>1 and 2=2 (half): 3.5 of 4.
    assert bt.roc_auc([3, 2], [1, 2]) == 0.875
    assert bt.roc_auc([5, 6], [1, 2, 3]) == 1.0
    assert bt.roc_auc([1], [5, 6]) == 0.0
    assert bt.roc_auc([2, 2], [2, 2, 2]) == 0.5
    assert bt.roc_auc([np.nan, 3], [1, np.nan]) == 1.0  # missing values are left out
    assert bt.roc_auc([], [1]) is None and bt.roc_auc([1], [np.nan]) is None


def test_the_roc_curve_flags_the_riskiest_first_from_nothing_to_everything():
    assert bt.roc_curve([3, 2], [1, 2]) == [(0.0, 0.0), (0.0, 0.5), (0.5, 1.0), (1.0, 1.0)]
    assert bt.roc_curve([], [1]) == []


def test_a_lower_score_is_riskier_and_a_metric_is_risky_on_the_bad_side_of_its_direction():
    assert bt.score_risk([100, 0]).tolist() == [-100, 0]
    definition = parse_definition(
        {
            "kind": "rules",
            "metrics": [
                {"source": "usage.active_days_14d", "good": 4, "poor": 1},
                {"source": "usage.days_since_last_seen", "direction": "lower", "good": 3,
                 "poor": 14},
                {"source": "usage.visit_frequency", "grading": "categories",
                 "categories": {"daily": "good", "weekly": "average", "inactive": "poor"}},
            ],
        }
    )  # fmt: skip
    higher, lower, categories = definition.metrics
    assert bt.metric_risk(higher, np.array([1.0, 5.0])).tolist() == [-1.0, -5.0]
    assert bt.metric_risk(lower, np.array([1.0, 5.0])).tolist() == [1.0, 5.0]
    risk = bt.metric_risk(categories, np.array(["daily", "inactive", None, "hourly"], object))
    assert risk[:2].tolist() == [-2.0, 0.0] and np.isnan(risk[2:]).all()


def test_rank_shares_and_score_bins_count_the_scored_only():
    assert bt.rank_shares([0, 0, 1, 2, -1]) == {"good": 0.25, "average": 0.25, "poor": 0.5}
    assert bt.rank_shares([-1]) == {"good": None, "average": None, "poor": None}
    assert bt.score_bins([0, 9.9, 10, 55, 100, np.nan]) == [2, 1, 0, 0, 0, 1, 0, 0, 0, 1]


def test_the_best_metric_needs_values_in_both_groups_and_a_history():
    def figure(id, auc, churned=5, others=5, read_as_now=False):
        return bt.MetricFigure(id, id, "usage." + id, auc, churned, others, None, None, read_as_now)

    figures = [
        figure("a", 0.7),
        figure("b", 0.9, churned=2),  # too few churned accounts with a value
        figure("c", 0.99, read_as_now=True),  # an attribute: flattered, never the best
        figure("d", 0.8),
        figure("e", None),
    ]
    assert bt.best_metric(figures).id == "d"
    assert bt.best_metric([figure("e", None)]) is None


# --- a workspace -----------------------------------------------------------------------------


@pytest.fixture
def world(owner):
    return churn_world.build(owner)


def classic(workspace) -> HealthProfile:
    return HealthProfile.objects.get(workspace=workspace, is_default=True)


def test_churned_accounts_are_ranked_as_they_were_30_days_before_they_churned(workspace, world):
    t = world
    report = bt.backtest(classic(workspace), days_before=30)
    assert report.history_starts == date_of(t - 100 + bt.HISTORY_NEEDED - 1)
    by_name = {a.external_id: a for a in report.churned}
    assert [a.external_id for a in report.churned][-1] == "gone-long-ago"  # latest churn first
    assert {k: (a.rank, a.score, a.left_out) for k, a in by_name.items()} == {
        "gone-idle": ("poor", 0.0, None),
        "gone-quiet": ("poor", 0.0, None),
        "gone-fading": ("average", 60.0, None),
        "gone-trial": (None, None, bt.NOT_PAYING),
        "gone-long-ago": (None, None, bt.BEFORE_HISTORY),
    }
    fading = by_name["gone-fading"]
    assert (fading.churned_on, fading.as_of) == (date_of(t - 10), date_of(t - 40))
    assert report.left_out == {bt.BEFORE_HISTORY: 1, bt.NOT_PAYING: 1, bt.UNSCORED_THEN: 0}
    assert (report.compared_churned, report.compared_others, report.others_left_out) == (3, 4, 1)
    assert report.churned_ranks == {"good": 0.0, "average": 0.3333, "poor": 0.6667}
    assert report.false_alarm_rate == 0.25
    assert report.auc == round(churn_world.AUC, 4)
    [metric] = report.metrics
    assert (metric.label, metric.auc, metric.churned, metric.others) == (
        "Active days, last 14 days",
        round(churn_world.AUC, 4),
        3,
        4,
    )
    assert (metric.churned_median, metric.others_median) == (0.0, 5.0)
    assert report.best.id == metric.id
    assert report.bins == {
        "churned": [2, 0, 0, 0, 0, 0, 1, 0, 0, 0],
        "others": [1, 0, 0, 0, 0, 0, 0, 0, 0, 3],
    }
    assert report.roc[0] == (0.0, 0.0) and report.roc[-1] == (1.0, 1.0)


def test_a_stored_snapshot_of_the_tested_version_is_what_the_profile_said_then(
    workspace, world, owner
):
    t = world
    profile = classic(workspace)
    fading = Account.objects.get(external_id="gone-fading")
    HealthSnapshot.objects.create(
        workspace=workspace, account=fading, day=t - 45, score=0, rank="poor",
        version=profile.current_version,
    )  # fmt: skip
    report = bt.backtest(profile, days_before=30)
    assert report.from_snapshots == 1
    assert report.churned_ranks["poor"] == 1.0
    assert report.auc == 0.875  # each churned 0 beats three stayed and ties one: 10.5 / 12
    [fading_row] = [a for a in report.churned if a.external_id == "gone-fading"]
    assert fading_row.from_snapshot and fading_row.rank == "poor"
    # Another version's snapshot is not this version's word: recomputed.
    update_profile(owner.actor, profile, {"definition": profile.current_version.definition})
    profile = classic(workspace)
    assert profile.current_version.number == 2
    assert bt.backtest(profile, days_before=30).from_snapshots == 0
    assert bt.backtest(profile, days_before=30, version=1).from_snapshots == 1


def test_a_draft_definition_is_tested_without_being_saved(workspace, world):
    draft = {"kind": "rules", "metrics": [{"source": "usage.active_days_14d", "good": 1,
                                           "poor": 1, "missing": "poor"}]}  # fmt: skip
    report = bt.backtest(classic(workspace), days_before=30, definition=draft)
    assert report.version is None
    assert report.churned_ranks == {"good": 0.3333, "average": 0.0, "poor": 0.6667}
    # Churned 0, 0, 100 against 100, 100, 100, 0: 3.5 + 3.5 + 1.5 of 12.
    assert report.auc == round(8.5 / 12, 4)
    assert classic(workspace).versions.count() == 1


def test_earlier_days_before_churn_can_fall_before_the_usage_history(workspace, world):
    report = bt.backtest(classic(workspace), days_before=90)
    assert report.left_out[bt.BEFORE_HISTORY] == 4  # as of T-100: the history starts at T-71
    assert report.compared_churned == 0 and report.auc is None
    assert report.false_alarm_rate is None and report.best is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"days_before": 45}, "days_before"),
        ({"lookback_days": 5}, "lookback_days"),
        ({"version": 7}, "version"),
        ({"definition": {"kind": "rules", "metrics": []}}, "definition.metrics"),
        ({"definition": {"kind": "rules", "metrics": [{"source": "usage.nope"}]}},
         "definition.metrics.0.source"),
        ({"version": 1, "definition": {}}, "definition"),
    ],
)  # fmt: skip
def test_bad_requests_name_the_field(workspace, kwargs, field):
    with pytest.raises(InvalidInput) as raised:
        bt.backtest(classic(workspace), **kwargs)
    assert raised.value.field == field


def test_a_workspace_without_churn_gets_an_empty_report(workspace):
    report = bt.backtest(classic(workspace))
    assert not report.has_churn
    assert (report.auc, report.false_alarm_rate, report.metrics) == (None, None, [])
