"""The retry schedule covers at least a day, jitter never shortens it, Retry-After is honoured."""

import random
from datetime import timedelta

import pytest

from tend.lib.outgoing import MAX_ATTEMPTS, RETRY_DELAYS, retry_delay, retry_window


def test_the_schedule_spans_more_than_24_hours_over_eight_attempts():
    assert MAX_ATTEMPTS == 8
    assert retry_window() >= timedelta(hours=24)
    assert list(RETRY_DELAYS) == sorted(RETRY_DELAYS)


def test_jitter_only_ever_lengthens_a_wait_by_up_to_a_quarter():
    rng = random.Random(7)
    for attempt, base in enumerate(RETRY_DELAYS, start=1):
        waits = [retry_delay(attempt, rng=rng) for _ in range(200)]
        assert min(waits) >= base
        assert max(waits) <= base * 1.25
        assert len(set(waits)) > 100  # really random, so retries after an outage spread out


def test_after_the_last_scheduled_retry_it_gives_up():
    assert retry_delay(len(RETRY_DELAYS)) is not None
    assert retry_delay(len(RETRY_DELAYS) + 1) is None


def test_a_longer_retry_after_wins_and_a_shorter_one_does_not_hurry_us():
    rng = random.Random(1)
    assert retry_delay(1, retry_after=600, rng=rng) == timedelta(seconds=600)
    assert retry_delay(3, retry_after=1, rng=rng) >= timedelta(minutes=30)


def test_attempts_are_counted_from_one():
    with pytest.raises(ValueError):
        retry_delay(0)
