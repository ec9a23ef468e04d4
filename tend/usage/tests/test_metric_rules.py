"""The pure rules behind visit frequency and engagement (docs/usage.md)."""

import numpy as np

from tend.usage import metrics


def test_visit_frequency_follows_the_documented_thresholds():
    # columns: active days in 14, in the last 7, in the 7 before, events in 30 days
    cases = {
        "daily": (8, 4, 4, 40),
        "weekly": (2, 1, 1, 2),
        "occasionally": (3, 3, 0, 9),  # active only this week
        "inactive": (0, 0, 0, 0),
    }
    rows = np.array(list(cases.values())).T
    assert list(metrics.visit_frequency(*rows)) == list(cases)


def test_activity_only_weeks_ago_but_within_30_days_is_occasional():
    assert metrics.visit_frequency([0], [0], [0], [5])[0] == "occasionally"


def test_seven_active_days_out_of_fourteen_is_weekly_not_daily():
    assert metrics.visit_frequency([7], [4], [3], [20])[0] == "weekly"


def test_the_daily_average_counts_only_days_since_the_account_was_first_seen():
    today = 1000
    averages = metrics.daily_average([28, 28], [np.nan, today - 1], today)
    assert list(averages) == [2.0, 14.0]


def test_peer_percentiles_rank_against_the_peers():
    peers = [1, 2, 3, 4]
    assert list(metrics.peer_percentile([1, 2.5, 4, 10], peers)) == [25, 50, 100, 100]


def test_trend_is_neutral_without_a_baseline_and_doubles_to_100():
    scores = metrics.trend_score([2, 2, 4, 0], [0, 76, 76, 76], [0, 76, 76, 76])
    assert list(scores) == [50, 100, 100, 0]
    assert metrics.trend_score([1], [76], [76])[0] == 50


def test_engagement_is_zero_under_one_event_a_day():
    assert list(metrics.engagement([0.9, 0], [1, 2, 3], [50, 50])) == [0, 0]


def test_engagement_blends_peer_rank_and_trend():
    # top of its peers (100) and at its baseline (50): 0.7 × 100 + 0.3 × 50
    assert metrics.engagement([5], [1, 2, 5], [50])[0] == 85
    # bottom third of its peers (34) and falling to nothing of its baseline (0)
    assert metrics.engagement([1], [1, 2, 5], [0])[0] == round(0.7 * 34)


def test_baseline_days_count_only_days_after_first_seen():
    today = 1000
    assert list(metrics.baseline_days([np.nan, today - 20, today - 5], today)) == [76, 7, 0]
