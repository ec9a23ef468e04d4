"""Claiming and running jobs: the worker's side of the queue.

Steps for one job:

1. **Claim** a due row (a queued row whose ``due_at`` has passed, or a running row whose
   lease expired because its worker died). On PostgreSQL ``SELECT … FOR UPDATE SKIP
   LOCKED`` lets workers pass each other; elsewhere a conditional ``UPDATE`` that repeats
   the claimability test in its ``WHERE`` clause decides (rowcount 1 wins). The claim sets
   status running, ``locked_by``, the lease ``locked_until`` and counts the attempt.
2. **Run** the body inside the job's workspace scope while a heartbeat thread extends the
   lease, so a long job is not mistaken for a dead one.
3. **Finish**: succeeded; or, on an exception, queued again after an exponential backoff,
   or failed with the reason once ``max_attempts`` is reached. Every finishing update names
   ``locked_by``, so a worker that lost its lease cannot overwrite the new owner's state.
"""

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from tend.jobs.models import Job, JobStatus
from tend.jobs.registry import UnknownJob, get_job_type

log = logging.getLogger("tend.jobs")

BACKOFF_BASE_SECONDS = 10
BACKOFF_MAX_SECONDS = 3600
ERROR_MAX_CHARS = 4000
TRACEBACK_FRAMES = 8
# A row claimed without a registered kind (a deploy removed it) is leased briefly.
UNKNOWN_KIND_LEASE_SECONDS = 60


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def backoff(attempts: int) -> timedelta:
    """Delay before retrying after the ``attempts``-th failure: 10 s, 20 s, 40 s … capped at 1 h."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def lease_for(kind: str) -> int:
    try:
        return get_job_type(kind).lease_seconds
    except UnknownJob:
        return UNKNOWN_KIND_LEASE_SECONDS


def describe_error(exc: BaseException) -> str:
    """``Type: message`` on the first line, then the innermost frames of the traceback."""
    head = f"{type(exc).__name__}: {exc}".strip()
    frames = traceback.format_tb(exc.__traceback__)[-TRACEBACK_FRAMES:]
    text = head + ("\n\nTraceback (innermost frames):\n" + "".join(frames) if frames else "")
    return text if len(text) <= ERROR_MAX_CHARS else text[: ERROR_MAX_CHARS - 1] + "…"


# --- Claiming ------------------------------------------------------------------------------


def claim_next(worker_id: str, now: datetime | None = None) -> Job | None:
    """Claim one due job for ``worker_id``, or return None when nothing is due."""
    if connection.vendor == "postgresql":
        return claim_with_skip_locked(worker_id, now)
    return claim_with_conditional_update(worker_id, now)


def _claim_fields(job: Job, worker_id: str, now: datetime) -> dict:
    return {
        "status": JobStatus.RUNNING,
        "locked_by": worker_id,
        "locked_until": now + timedelta(seconds=lease_for(job.kind)),
        "started_at": now,
        "finished_at": None,
    }


def claim_with_skip_locked(worker_id: str, now: datetime | None = None) -> Job | None:
    now = now or timezone.now()
    with transaction.atomic():
        job = (
            Job.objects.select_for_update(skip_locked=True)
            .claimable(now)
            .order_by("due_at", "id")
            .first()
        )
        if job is None:
            return None
        fields = _claim_fields(job, worker_id, now)
        for name, value in fields.items():
            setattr(job, name, value)
        job.attempts += 1
        job.save(update_fields=[*fields, "attempts"])
    return job


def claim_with_conditional_update(worker_id: str, now: datetime | None = None, candidates: int = 8) -> Job | None:
    """Read a few candidates, then try to take each with an UPDATE that re-checks claimability.

    Another worker may take a candidate between the read and the update; its UPDATE then
    matches no row and we try the next one.
    """
    now = now or timezone.now()
    rows = list(Job.objects.claimable(now).order_by("due_at", "id").values("id", "kind")[:candidates])
    for row in rows:
        stub = Job(id=row["id"], kind=row["kind"])
        fields = _claim_fields(stub, worker_id, now)
        taken = Job.objects.claimable(now).filter(pk=row["id"]).update(attempts=F("attempts") + 1, **fields)
        if taken == 1:
            return Job.objects.get(pk=row["id"])
    return None


# --- Running -------------------------------------------------------------------------------


class Heartbeat:
    """Extends the lease of a running job every third of its length, from its own thread.

    The thread opens its own database connection only if the job outlives the first
    interval, and closes it before it ends.
    """

    def __init__(self, job: Job, worker_id: str, lease_seconds: int):
        self.job_id = job.pk
        self.worker_id = worker_id
        self.lease = timedelta(seconds=lease_seconds)
        self.interval = max(lease_seconds / 3, 0.05)
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job.pk}", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _beat(self):
        from django.db import connections

        try:
            while not self._stop.wait(self.interval):
                try:
                    extended = Job.objects.filter(
                        pk=self.job_id, status=JobStatus.RUNNING, locked_by=self.worker_id
                    ).update(locked_until=timezone.now() + self.lease)
                except Exception:  # a missed beat is survivable; the next one may succeed
                    log.exception("heartbeat for job %s failed", self.job_id)
                    continue
                if extended == 0:
                    self.lost = True
                    log.warning("job %s: lease lost to another worker; its result will not be recorded", self.job_id)
                    return
        finally:
            connections.close_all()


def run_job(job: Job, worker_id: str) -> str:
    """Run a claimed job and record the outcome; return the status it ended in."""
    started = time.monotonic()
    if job.attempts > job.max_attempts:
        # Only a lease that expired can bring a job here: its worker died on every attempt.
        error = (
            f"LeaseExpired: the worker running attempt {job.attempts - 1} of {job.max_attempts} "
            "stopped without finishing (killed, or out of memory?)"
        )
        _finish(job, worker_id, status=JobStatus.FAILED, error=error)
        log.error("job %s %s failed: %s", job.pk, job.kind, error)
        return JobStatus.FAILED
    try:
        job_type = get_job_type(job.kind)
        with Heartbeat(job, worker_id, job_type.lease_seconds), _scope_for(job):
            job_type.func(job)
    except Exception as exc:
        return _record_failure(job, worker_id, exc)
    _finish(job, worker_id, status=JobStatus.SUCCEEDED, error="")
    log.info("job %s %s succeeded in %.2fs", job.pk, job.kind, time.monotonic() - started)
    return JobStatus.SUCCEEDED


def _scope_for(job: Job):
    if job.workspace_id is not None:
        return scope(workspace=job.workspace_id)
    return scopes_disabled()


def _record_failure(job: Job, worker_id: str, exc: Exception) -> str:
    error = describe_error(exc)
    if job.attempts < job.max_attempts:
        delay = backoff(job.attempts)
        _requeue(job, worker_id, timezone.now() + delay, error)
        log.warning(
            "job %s %s attempt %s/%s failed, retrying in %ss: %s",
            job.pk, job.kind, job.attempts, job.max_attempts, int(delay.total_seconds()), error.split("\n")[0],
        )
        return JobStatus.QUEUED
    _finish(job, worker_id, status=JobStatus.FAILED, error=error)
    log.error("job %s %s failed after %s attempts: %s", job.pk, job.kind, job.attempts, error.split("\n")[0])
    return JobStatus.FAILED


def _owned(job: Job, worker_id: str):
    return Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, locked_by=worker_id)


def _finish(job: Job, worker_id: str, *, status: str, error: str) -> None:
    updated = _owned(job, worker_id).update(
        status=status, finished_at=timezone.now(), locked_until=None, last_error=error or job.last_error
    )
    if updated:
        job.status = status
    else:
        log.warning("job %s finished after its lease passed to another worker; outcome not recorded", job.pk)


def _requeue(job: Job, worker_id: str, due_at: datetime, error: str) -> None:
    from tend.jobs.actions import requeue_keeping_key_unique

    requeue_keeping_key_unique(_owned(job, worker_id), due_at=due_at, last_error=error)
    job.status = JobStatus.QUEUED


# --- The loop ------------------------------------------------------------------------------


@dataclass
class WorkerStats:
    succeeded: int = 0
    failed: int = 0
    retried: int = 0


class Worker:
    """Claims and runs jobs one at a time until asked to stop.

    ``stop()`` (first SIGTERM) lets the current job finish; the caller decides what a second
    signal does. ``burst`` mode returns as soon as nothing is claimable.
    """

    def __init__(self, worker_id: str | None = None, poll_seconds: float = 1.0, burst: bool = False):
        self.worker_id = worker_id or new_worker_id()
        self.poll_seconds = poll_seconds
        self.burst = burst
        self.stats = WorkerStats()
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> WorkerStats:
        while not self.stopping:
            refresh_connection()
            try:
                job = claim_next(self.worker_id)
            except Exception:
                if self.burst:
                    raise
                # A database restart or a long lock must not kill the worker: wait and retry.
                log.exception("worker %s could not claim a job", self.worker_id)
                drop_connection()
                self._stopping.wait(self.poll_seconds)
                continue
            if job is None:
                if self.burst:
                    break
                self._stopping.wait(self.poll_seconds)
                continue
            try:
                outcome = run_job(job, self.worker_id)
            except Exception:
                if self.burst:
                    raise
                # Recording the outcome failed (database gone?); the lease brings the job back.
                log.exception("worker %s lost track of job %s", self.worker_id, job.pk)
                drop_connection()
                self._stopping.wait(self.poll_seconds)
                continue
            if outcome == JobStatus.SUCCEEDED:
                self.stats.succeeded += 1
            elif outcome == JobStatus.FAILED:
                self.stats.failed += 1
            else:
                self.stats.retried += 1
        drop_connection()
        return self.stats


def refresh_connection() -> None:
    """Between jobs, do what Django does between requests: drop a broken or aged connection.

    Skipped inside an atomic block (a test's transaction), where closing would abort it.
    """
    from django.db import close_old_connections

    if not connection.in_atomic_block:
        close_old_connections()


def drop_connection() -> None:
    if not connection.in_atomic_block:
        connection.close()
