"""Periodic work: entries declared in ``tend/schedule.py``, run by ``tend scheduler``.

Steps of one scheduler pass:

1. **Sync** the ``ScheduleEntry`` rows with the declared entries (insert new ones with
   ``ignore_conflicts`` so concurrent schedulers agree; update changed kinds; delete rows
   for removed entries).
2. For each due row, **claim the run** with ``UPDATE … SET next_run_at = <next> WHERE name
   = … AND next_run_at = <the value read>``. Only one scheduler's update can match, so a
   run is enqueued once however many schedulers there are. The update and the enqueue
   share a transaction: a scheduler dying between them loses nothing.
3. **Enqueue** the job with ``unique_key="schedule:<name>"``, so runs do not pile up while
   workers are down.

Times are UTC. A scheduler that was stopped for a while runs each overdue entry once, then
returns to the entry's rhythm (no burst of catch-up runs).
"""

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from tend.jobs.models import ScheduleEntry
from tend.jobs.registry import enqueue, get_job_type

log = logging.getLogger("tend.jobs.scheduler")


@dataclass(frozen=True)
class Periodic:
    """One line of the schedule: run job ``kind`` ``every`` interval, or daily ``at`` a UTC
    time (``"03:30"`` or a ``datetime.time``)."""

    name: str
    kind: str
    every: timedelta | None = None
    at: time | str | None = None
    payload: dict = field(default_factory=dict)

    def __post_init__(self):
        if isinstance(self.at, str):
            object.__setattr__(self, "at", time.fromisoformat(self.at))
        if (self.every is None) == (self.at is None):
            raise ValueError(f"schedule entry {self.name!r}: give exactly one of every= or at=")
        if self.every is not None and self.every <= timedelta(0):
            raise ValueError(f"schedule entry {self.name!r}: every= must be positive")

    @property
    def rhythm(self) -> str:
        if self.at is not None:
            return f"daily at {self.at:%H:%M} UTC"
        seconds = int(self.every.total_seconds())
        for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
            if seconds % size == 0:
                n = seconds // size
                return f"every {unit}" if n == 1 else f"every {n} {unit}s"
        return f"every {seconds} seconds"

    def first_run(self, now: datetime) -> datetime:
        """An interval entry runs as soon as it is first seen; a daily one at its next time."""
        return now if self.every is not None else self._next_daily(now)

    def next_run(self, due: datetime, now: datetime) -> datetime:
        """The run after the one due at ``due``, strictly later than ``now``."""
        if self.at is not None:
            return self._next_daily(now)
        missed = (now - due) // self.every if now > due else 0
        return due + self.every * (missed + 1)

    def _next_daily(self, now: datetime) -> datetime:
        now = now.astimezone(UTC)
        candidate = datetime.combine(now.date(), self.at, tzinfo=UTC)
        return candidate if candidate > now else candidate + timedelta(days=1)


def declared_schedule() -> list[Periodic]:
    from tend.schedule import SCHEDULE

    return list(SCHEDULE)


def sync_entries(schedule: list[Periodic], now: datetime | None = None) -> None:
    now = now or timezone.now()
    for entry in schedule:
        get_job_type(entry.kind)  # a typo in the schedule fails loudly at startup
    ScheduleEntry.objects.bulk_create(
        [ScheduleEntry(name=e.name, kind=e.kind, next_run_at=e.first_run(now)) for e in schedule],
        ignore_conflicts=True,
    )
    for entry in schedule:
        ScheduleEntry.objects.filter(name=entry.name).exclude(kind=entry.kind).update(kind=entry.kind)
    ScheduleEntry.objects.exclude(name__in=[e.name for e in schedule]).delete()


def claim_run(entry: Periodic, row: ScheduleEntry, now: datetime) -> int | None:
    """Claim the run of ``row`` due at the ``next_run_at`` we read; return the job id, or
    None when another scheduler claimed it first."""
    with transaction.atomic():
        taken = ScheduleEntry.objects.filter(pk=row.pk, next_run_at=row.next_run_at).update(
            next_run_at=entry.next_run(row.next_run_at, now), last_run_at=now
        )
        if taken != 1:
            return None
        job = enqueue(entry.kind, entry.payload, unique_key=f"schedule:{entry.name}")
        ScheduleEntry.objects.filter(pk=row.pk).update(last_job_id=job.pk)
    log.info("schedule %s: enqueued %s as job %s", entry.name, entry.kind, job.pk)
    return job.pk


def run_due(schedule: list[Periodic], now: datetime | None = None) -> list[int]:
    """Enqueue every due entry once; return the ids of the jobs enqueued by this call."""
    now = now or timezone.now()
    by_name = {e.name: e for e in schedule}
    enqueued = []
    for row in ScheduleEntry.objects.filter(name__in=by_name, next_run_at__lte=now):
        job_id = claim_run(by_name[row.name], row, now)
        if job_id is not None:
            enqueued.append(job_id)
    return enqueued


def seconds_until_next(schedule: list[Periodic], cap: float) -> float:
    upcoming = (
        ScheduleEntry.objects.filter(name__in=[e.name for e in schedule])
        .order_by("next_run_at")
        .values_list("next_run_at", flat=True)
        .first()
    )
    if upcoming is None:
        return cap
    return min(cap, max((upcoming - timezone.now()).total_seconds(), 0.0))


class Scheduler:
    """Runs passes until stopped. Any number may run; claims keep runs single."""

    def __init__(self, schedule: list[Periodic] | None = None, poll_seconds: float = 5.0):
        self.schedule = declared_schedule() if schedule is None else schedule
        self.poll_seconds = poll_seconds
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self, once: bool = False) -> None:
        from tend.jobs.runner import drop_connection, refresh_connection

        sync_entries(self.schedule)
        while not self._stopping.is_set():
            refresh_connection()
            try:
                run_due(self.schedule)
                wait = seconds_until_next(self.schedule, self.poll_seconds)
            except Exception:
                if once:
                    raise
                log.exception("scheduler pass failed; retrying")
                drop_connection()
                wait = self.poll_seconds
            if once:
                break
            # Wake a little after the due time rather than spinning on it.
            self._stopping.wait(max(wait, 0.05))
        drop_connection()
