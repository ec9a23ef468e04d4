"""Changes to job rows made on a person's behalf (the worker's own updates live in runner)."""

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from tend.jobs.models import Job, JobStatus
from tend.lib.errors import InvalidInput


def requeue_keeping_key_unique(rows: QuerySet, **fields) -> int:
    """Put ``rows`` (one job) back in the queue with ``fields`` set.

    If another queued job already carries the same ``unique_key`` the two would violate the
    "one queued job per key" constraint; this one then gives up its key and both run, which
    is harmless because job bodies are idempotent.
    """
    values = {"status": JobStatus.QUEUED, "locked_until": None, "locked_by": "", "finished_at": None, **fields}
    try:
        with transaction.atomic():
            return rows.update(**values)
    except IntegrityError:
        return rows.update(unique_key=None, **values)


@transaction.atomic
def retry_job(job: Job) -> Job:
    """Queue a failed job again, now, with a fresh set of attempts. Its last error is kept
    until the next attempt replaces it, so the reason stays visible."""
    if job.status != JobStatus.FAILED:
        raise InvalidInput("status", f"Only failed jobs can be retried; this one is {job.get_status_display().lower()}.")
    now = timezone.now()
    updated = requeue_keeping_key_unique(
        Job.objects.filter(pk=job.pk, status=JobStatus.FAILED), due_at=now, attempts=0, started_at=None
    )
    if updated != 1:
        raise InvalidInput("status", "This job changed while you were looking at it; reload the page.")
    job.refresh_from_db()
    return job
