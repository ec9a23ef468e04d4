"""When to try a failed delivery again: Standard Webhooks' schedule, with jitter.

Attempt 1 is immediate; retries follow after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h —
eight attempts over about 27½ hours, so a receiver that is down for a day still gets
everything. Jitter only ever *adds* up to a quarter of a wait: retries from an outage spread
out instead of arriving together, and the window never shrinks below the schedule.
"""

from __future__ import annotations

import random
from datetime import timedelta

RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.25


def retry_delay(
    attempts_made: int,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> timedelta | None:
    """The wait before the next attempt, after ``attempts_made`` failed ones; None to give up.

    A receiver's ``Retry-After`` (seconds, already capped by ``parse_retry_after``) is
    honoured when it asks for longer than the schedule would wait.
    """
    if attempts_made < 1:
        raise ValueError("attempts_made counts the failed attempts so far, starting at 1")
    if attempts_made > len(RETRY_DELAYS):
        return None
    base = RETRY_DELAYS[attempts_made - 1]
    wait = base * (1 + (rng or random).uniform(0, JITTER))
    if retry_after is not None and retry_after > wait.total_seconds():
        wait = timedelta(seconds=retry_after)
    return wait


def retry_window() -> timedelta:
    """The least time from the first attempt to the last (no jitter, no Retry-After)."""
    return sum(RETRY_DELAYS, timedelta())
