"""Declaring jobs and putting them on the queue.

Declare a job in your app's ``jobs.py`` (discovered when Django starts)::

    from tend.jobs.registry import job

    @job("accounts.refresh_rollup", max_attempts=5, lease_seconds=300)
    def refresh_rollup(job):
        account_id = job.payload["account_id"]
        ...

and queue it from an action, inside its transaction::

    enqueue("accounts.refresh_rollup", {"account_id": account.pk}, workspace_id=account.workspace_id)

The row is written in the caller's transaction, so it becomes visible to workers only when
that transaction commits, and vanishes with it on rollback.

**Job bodies must be idempotent.** A job may run more than once: a worker killed after the
body's writes committed but before the job was marked succeeded leaves the row running with
a lease; when the lease expires another worker runs it again. Write bodies so a second run
changes nothing (upsert on a natural key, ``get_or_create``, conditional updates, check
before sending). The body receives the :class:`~tend.jobs.models.Job` row (``job.payload``,
``job.workspace_id``, ``job.id`` — a stable key for idempotency), runs inside the workspace's
scope when the job has one, and is not wrapped in a transaction: keep your own transactions
short, since on SQLite a write transaction blocks every other writer.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from tend.jobs.models import Job, JobStatus

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_LEASE_SECONDS = 300


@dataclass(frozen=True)
class JobType:
    kind: str
    func: Callable[[Job], object]
    max_attempts: int
    lease_seconds: int


_registry: dict[str, JobType] = {}


class UnknownJob(LookupError):
    pass


def job(kind: str, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS, lease_seconds: int = DEFAULT_LEASE_SECONDS):
    """Register ``func(job)`` under ``kind`` ("app.verb_noun"). See the module docstring."""
    if max_attempts < 1 or lease_seconds < 1:
        raise ValueError("max_attempts and lease_seconds must be at least 1")

    def register(func):
        existing = _registry.get(kind)
        if existing is not None and existing.func.__qualname__ != func.__qualname__:
            raise ValueError(f"job kind {kind!r} is already registered by {existing.func.__module__}")
        _registry[kind] = JobType(kind, func, max_attempts, lease_seconds)
        return func

    return register


def get_job_type(kind: str) -> JobType:
    try:
        return _registry[kind]
    except KeyError:
        raise UnknownJob(f"no job is registered as {kind!r}") from None


def registered_kinds() -> list[str]:
    return sorted(_registry)


def enqueue(
    kind: str,
    payload: dict | None = None,
    *,
    workspace_id: int | None = None,
    due_at: datetime | None = None,
    unique_key: str | None = None,
) -> Job:
    """Queue a job and return its row.

    With ``unique_key``, a queued job carrying the same key is returned instead of a new one
    (and moved earlier if this call asks for an earlier time): repeated requests for the same
    pending work collapse into one run. A job already running does not count, since it may
    have read the data before the change that asked for another run.
    """
    job_type = get_job_type(kind)
    now = timezone.now()
    fields = dict(
        kind=kind,
        payload=payload or {},
        workspace_id=workspace_id,
        due_at=due_at or now,
        max_attempts=job_type.max_attempts,
        unique_key=unique_key,
        created_at=now,
    )
    if unique_key is None:
        return Job.objects.create(**fields)
    for _ in range(3):
        try:
            with transaction.atomic():
                return Job.objects.create(**fields)
        except IntegrityError:
            existing = Job.objects.filter(unique_key=unique_key, status=JobStatus.QUEUED).first()
            if existing is None:
                continue  # claimed by a worker between our insert and this read: try again
            if existing.due_at > fields["due_at"]:
                Job.objects.filter(pk=existing.pk, status=JobStatus.QUEUED).update(due_at=fields["due_at"])
                existing.due_at = fields["due_at"]
            return existing
    raise IntegrityError(f"could not enqueue {kind!r} with unique_key {unique_key!r}")


def enqueue_many(
    kind: str,
    items: list[tuple[dict, str | None]],
    *,
    workspace_id: int | None = None,
    due_at: datetime | None = None,
) -> int:
    """Queue many jobs of one kind in one insert: ``items`` are ``(payload, unique_key)``.
    A key already carried by a queued job is skipped (that job will do the work), as
    :func:`enqueue` would hand it back. Returns how many rows were inserted."""
    if not items:
        return 0
    job_type = get_job_type(kind)
    now = timezone.now()
    keys = [key for _payload, key in items if key is not None]
    queued = set(
        Job.objects.filter(unique_key__in=keys, status=JobStatus.QUEUED).values_list("unique_key", flat=True)
    ) if keys else set()  # fmt: skip
    rows = [
        Job(
            kind=kind,
            payload=payload or {},
            workspace_id=workspace_id,
            due_at=due_at or now,
            max_attempts=job_type.max_attempts,
            unique_key=key,
            created_at=now,
        )
        for payload, key in items
        if key is None or key not in queued
    ]
    Job.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
