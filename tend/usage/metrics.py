"""Derived usage metrics as pure functions over whole populations (NumPy arrays).

The rules are written out in ``docs/usage.md``; the numbers here are the same ones.

* **Visit frequency** from the days with activity: *daily* — active on at least
  ``DAILY_MIN_DAYS`` of the last 14 days (about every working day); *weekly* — active in each
  of the last two weeks (days 1–7 and 8–14 back, today counting as day 1); *occasionally* —
  some activity in the last 30 days; *inactive* — none in 30 days.
* **Engagement** 0–100, after Totango's: the average events per day over the last 14 days
  (or the days since the account was first seen, if fewer), ranked against peers with the
  same status (percentile, 1–100), blended with the account's trend against its own
  baseline (the average per day over days 15–90 back): ``0.7 × peer + 0.3 × trend`` where
  trend is 50 at the baseline, 100 at twice it or more, 0 at nothing. An account averaging
  under one event a day scores 0, as in Totango.
"""

import numpy as np

DAILY_MIN_DAYS = 8
ENGAGEMENT_MIN_PER_DAY = 1.0
PEER_WEIGHT = 0.7
TREND_WEIGHT = 0.3
NEUTRAL_TREND = 50.0
WINDOW_DAYS = 14
BASELINE_DAYS = 76  # days 15–90 back

DAILY, WEEKLY, OCCASIONALLY, INACTIVE = "daily", "weekly", "occasionally", "inactive"


def visit_frequency(
    active_days_14d, active_days_week1, active_days_week2, events_30d
) -> np.ndarray:
    """Visit frequency for each row; ``week1`` is the last 7 days, ``week2`` the 7 before."""
    active_days_14d = np.asarray(active_days_14d)
    result = np.full(active_days_14d.shape, INACTIVE, dtype=object)
    result[np.asarray(events_30d) > 0] = OCCASIONALLY
    result[(np.asarray(active_days_week1) > 0) & (np.asarray(active_days_week2) > 0)] = WEEKLY
    result[active_days_14d >= DAILY_MIN_DAYS] = DAILY
    return result


def observed_days(first_seen_day, today: int, window: int) -> np.ndarray:
    """Days of a window the account could have been active: the window, or fewer for an
    account first seen inside it (at least one)."""
    first = np.asarray(first_seen_day, dtype=float)
    days = np.where(np.isnan(first), window, today - first + 1)
    return np.clip(days, 1, window)


def daily_average(events_14d, first_seen_day, today: int) -> np.ndarray:
    return np.asarray(events_14d, dtype=float) / observed_days(first_seen_day, today, WINDOW_DAYS)


def peer_percentile(values, peer_values) -> np.ndarray:
    """Each value's percentile (1–100) among ``peer_values``: the share of peers at or below it."""
    values = np.asarray(values, dtype=float)
    peers = np.sort(np.asarray(peer_values, dtype=float))
    if peers.size == 0:
        return np.full(values.shape, 100.0)
    at_or_below = np.searchsorted(peers, values, side="right")
    return np.clip(np.ceil(100.0 * at_or_below / peers.size), 1, 100)


def trend_score(average, baseline_events, baseline_days) -> np.ndarray:
    """50 at the account's own baseline, 100 at twice it or more; 50 without a baseline."""
    average = np.asarray(average, dtype=float)
    baseline_events = np.asarray(baseline_events, dtype=float)
    baseline_days = np.asarray(baseline_days, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        baseline = np.where(baseline_days > 0, baseline_events / np.maximum(baseline_days, 1), 0.0)
        ratio = np.where(baseline > 0, average / np.where(baseline > 0, baseline, 1), np.nan)
    score = 100.0 * np.clip(ratio, 0, 2) / 2
    return np.where(np.isnan(score), NEUTRAL_TREND, score)


def engagement(average, peer_average, trend) -> np.ndarray:
    """Engagement 0–100 from the daily average, the peer averages (those ≥ 1/day, same status)
    and the trend score."""
    average = np.asarray(average, dtype=float)
    peer = peer_percentile(average, peer_average)
    score = np.rint(PEER_WEIGHT * peer + TREND_WEIGHT * np.asarray(trend, dtype=float))
    score = np.clip(score, 1, 100)
    return np.where(average >= ENGAGEMENT_MIN_PER_DAY, score, 0).astype(int)


def baseline_days(first_seen_day, today: int) -> np.ndarray:
    """How many of the baseline days (15–90 back) fall after the account was first seen."""
    first = np.asarray(first_seen_day, dtype=float)
    start = today - 89  # the oldest baseline day
    end = today - WINDOW_DAYS  # the newest baseline day
    first = np.where(np.isnan(first), start, first)
    return np.clip(end - np.maximum(first, start) + 1, 0, BASELINE_DAYS)
