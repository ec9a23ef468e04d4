"""Emitting events and handing them to their consumers (docs/webhooks.md).

Steps of an event's life:

1. An app's action calls :func:`emit` (or :func:`emit_many`) inside its transaction. Unless
   no consumer wants that type in that workspace (one query asks them), an ``Event`` row
   and an ``events.dispatch`` job for the workspace are written in that same transaction:
   both commit with the change or neither does.
2. The job (:func:`dispatch`) takes the workspace's undispatched events in id order, a batch
   at a time, and in one transaction per batch lets every consumer write its own rows
   (webhook deliveries) and marks the batch dispatched. A second run finds nothing left.
3. A periodic sweep (:func:`queue_stalled`) queues the job again for any workspace whose
   events waited too long, should a job have failed for good.

Consumers register from their ``AppConfig.ready``: ``interest(workspace_id)`` returns the
types it wants there (so nothing is written when nobody listens), and ``consume(events)``
writes rows in the caller's transaction and must not talk to the network.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from tend.events import registry
from tend.events.models import Event
from tend.jobs.registry import enqueue

log = logging.getLogger("tend.events")

DISPATCH_JOB = "events.dispatch"
DISPATCH_BATCH = 500
STALLED_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class Consumer:
    interest: Callable[[int], Iterable[str]]
    consume: Callable[[list[Event]], None]


_consumers: dict[str, Consumer] = {}


def add_consumer(key: str, *, interest, consume) -> None:
    """Register (or, by key, replace) a consumer of events."""
    _consumers[key] = Consumer(interest, consume)


def remove_consumer(key: str) -> None:
    """Forget a consumer (tests that listened for a while)."""
    _consumers.pop(key, None)


def wanted_types(workspace_id: int) -> set[str]:
    wanted: set[str] = set()
    for consumer in _consumers.values():
        wanted.update(consumer.interest(workspace_id))
    return wanted


def emit(workspace_id: int, type: str, data: dict, *, at: datetime | None = None) -> Event | None:
    """Record one event in the caller's transaction; None when nobody wants it."""
    written = emit_many(workspace_id, [(type, data)], at=at)
    return written[0] if written else None


def emit_many(
    workspace_id: int, items: Iterable[tuple[str, dict]], *, at: datetime | None = None
) -> list[Event]:
    """Record events of one workspace in the caller's transaction; those nobody wants are
    skipped. Types must be registered (a typo is a bug, so it raises)."""
    items = list(items)
    if not items:
        return []
    for type, _ in items:
        registry.get(type)
    wanted = wanted_types(workspace_id)
    now = at or timezone.now()
    rows = [
        Event(workspace_id=workspace_id, type=type, data=data, occurred_at=now)
        for type, data in items
        if type in wanted
    ]
    if not rows:
        return []
    with transaction.atomic():
        Event.objects.bulk_create(rows, batch_size=1000)
        _queue_dispatch(workspace_id)
    return rows


def _queue_dispatch(workspace_id: int, due_at: datetime | None = None) -> None:
    enqueue(
        DISPATCH_JOB,
        {"workspace_id": workspace_id},
        workspace_id=workspace_id,
        due_at=due_at,
        unique_key=f"{DISPATCH_JOB}:{workspace_id}",
    )


def dispatch(workspace_id: int) -> int:
    """Hand the workspace's undispatched events to the consumers; the number handed over."""
    total = 0
    while True:
        with transaction.atomic():
            pending = Event.objects.filter(workspace_id=workspace_id, dispatched_at__isnull=True)
            batch = list(pending.select_for_update().order_by("id")[:DISPATCH_BATCH])
            if not batch:
                return total
            for consumer in _consumers.values():
                consumer.consume(batch)
            Event.objects.filter(pk__in=[e.pk for e in batch], dispatched_at__isnull=True).update(
                dispatched_at=timezone.now()
            )
        total += len(batch)
        if len(batch) < DISPATCH_BATCH:
            return total


def queue_stalled(now: datetime | None = None) -> int:
    """Queue a dispatch for every workspace with an event older than ``STALLED_AFTER``."""
    cutoff = (now or timezone.now()) - STALLED_AFTER
    stalled = (
        Event.objects.filter(dispatched_at__isnull=True)
        .values("workspace_id")
        .annotate(first=Min("occurred_at"))
        .filter(first__lt=cutoff)
        .order_by()
    )
    count = 0
    for row in stalled:
        with transaction.atomic():
            _queue_dispatch(row["workspace_id"])
        count += 1
    if count:
        log.warning("queued a dispatch again for %s workspace(s) with stalled events", count)
    return count


def purge(older_than: timedelta = timedelta(days=30), now: datetime | None = None) -> int:
    """Delete dispatched events older than ``older_than`` (consumers keep their own copies)."""
    cutoff = (now or timezone.now()) - older_than
    deleted, _ = Event.objects.filter(dispatched_at__isnull=False, occurred_at__lt=cutoff).delete()
    return deleted
