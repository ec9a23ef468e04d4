"""The queue's own housekeeping jobs."""

from datetime import timedelta

from django.utils import timezone

from tend.jobs.models import Job, JobStatus
from tend.jobs.registry import job

KEEP_SUCCEEDED = timedelta(days=7)
KEEP_FAILED = timedelta(days=30)
DELETE_BATCH = 1000


@job("jobs.purge_finished", max_attempts=3, lease_seconds=600)
def purge_finished(job_row: Job) -> None:
    """Delete succeeded jobs after 7 days and failed ones after 30 (their reasons stay
    visible for a month). Batches keep each delete's lock short on SQLite."""
    now = timezone.now()
    for status, keep in ((JobStatus.SUCCEEDED, KEEP_SUCCEEDED), (JobStatus.FAILED, KEEP_FAILED)):
        old = Job.objects.filter(status=status, finished_at__lt=now - keep)
        while True:
            ids = list(old.values_list("pk", flat=True)[:DELETE_BATCH])
            if not ids:
                break
            Job.objects.filter(pk__in=ids).delete()
