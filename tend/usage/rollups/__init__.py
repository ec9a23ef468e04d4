"""Rollups: the event log counted per account, day, activity and module, and per end user,
then turned into each account's and end user's metrics.

One job, ``usage.roll_up``, runs the whole thing. It is queued by ingestion (a few seconds
after events arrive) and by the schedule every 30 seconds, so metrics are fresh within a
minute, and it catches up by itself after downtime.

Steps of a run:

1. **High-water mark.** The highest event id below which every event is committed. SQLite
   has one writer at a time, so it is simply the maximum id. PostgreSQL assigns ids from a
   sequence and concurrent transactions commit in any order, so the run takes the ingest
   barrier (``store.INGEST_LOCK``) exclusively for an instant — no ingest transaction is
   open then — and reads the maximum inside it.
2. **Count, chunk by chunk.** For events with ids in (watermark, high], at most ``CHUNK``
   at a time, one transaction: lock the watermark row, group the chunk into a temporary
   table by (workspace, account, end user, local day, activity, module), add it to
   ``AccountDay``, ``AccountActivityDay`` and ``UserDay`` with ``ON CONFLICT … DO UPDATE SET
   events = events + excluded.events``, record first and last seen and bump ``dirty`` on
   ``AccountUsage``/``UserUsage``, and move the watermark. The watermark moves in the same
   transaction as the counts, so a run killed midway leaves nothing counted twice or lost.
3. **Roll forward** workspaces whose local date changed since their last full refresh: every
   metrics row becomes dirty, since windows such as "last 7 days" move at midnight.
4. **Refresh** dirty rows: read their windows from the rollups, compute frequency and
   engagement with NumPy (``metrics.py``), and write each row back only if its ``dirty`` is
   still the value read (a row touched again meanwhile stays dirty for the next run).

Local days: a day number is computed in SQL as ``(ts + offset) / 86400000`` with the
offset of the workspace's time zone at that instant (``tend.lib.dates.offset_spans``).
"""

import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from tend.jobs.registry import enqueue
from tend.usage.models import RollupState
from tend.usage.rollups.counting import (
    ANALYZE_AFTER_EVENTS,
    CATCH_UP_CHUNKS,
    CHUNK,
    MAX_CHUNK,
    STATE,
    count_chunk,
    derived_data_transaction,
    first_uncounted,
    high_water_mark,
    refresh_statistics,
)
from tend.usage.rollups.refreshing import refresh, roll_forward, workspaces_with_dirty_rows
from tend.workspaces.models import Workspace

__all__ = [
    "CHUNK",
    "JOB",
    "STATE",
    "RollupResult",
    "derived_data_transaction",
    "high_water_mark",
    "refresh",
    "request_rollup",
    "roll_forward",
    "roll_up",
]

JOB = "usage.roll_up"
# Ingestion asks for a run at most this often per process, due this long after the request.
REQUEST_EVERY_SECONDS = 2.0
REQUEST_DELAY = timedelta(seconds=2)

_last_request = 0.0


def request_rollup() -> None:
    """Queue a rollup soon (inside the caller's transaction); collapses with a queued one."""
    global _last_request
    now = time.monotonic()
    if now - _last_request < REQUEST_EVERY_SECONDS:
        return
    enqueue(JOB, unique_key=JOB, due_at=timezone.now() + REQUEST_DELAY)
    # Only once the enqueue is committed: a rolled-back request must not silence the next.
    transaction.on_commit(lambda: _remember_request(now))


def _remember_request(at: float) -> None:
    global _last_request
    _last_request = at


@dataclass
class RollupResult:
    events: int = 0
    chunks: int = 0
    accounts_refreshed: int = 0
    users_refreshed: int = 0
    workspaces: set = field(default_factory=set)


def roll_up(now=None) -> RollupResult:
    """Count every committed event not counted yet, then refresh dirty metrics."""
    result = RollupResult()
    with scopes_disabled():
        high = high_water_mark()
        watermark = RollupState.objects.filter(name=STATE).values_list("last_event_id", flat=True)
        backlog = high - first_uncounted(watermark.first() or 0, high) + 1
        chunk = max(
            CHUNK.get(connection.vendor, CHUNK["sqlite"]),
            min(MAX_CHUNK, -(-backlog // CATCH_UP_CHUNKS)),
        )
        while True:
            counted = count_chunk(high, chunk)
            if counted is None:
                break
            result.events += counted
            result.chunks += 1
        if result.events >= ANALYZE_AFTER_EVENTS:
            refresh_statistics()
        roll_forward(now)
        for workspace in Workspace.objects.filter(pk__in=workspaces_with_dirty_rows()):
            accounts, users = refresh(workspace, now)
            result.accounts_refreshed += accounts
            result.users_refreshed += users
            result.workspaces.add(workspace.pk)
    return result
