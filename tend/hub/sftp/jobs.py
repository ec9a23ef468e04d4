"""The SFTP sources' jobs: every minute, queue a poll of each enabled source that is due;
and the poll itself (``tend.hub.sftp.polling``), retried by the runner on failure."""

from django.utils import timezone

from tend.hub.sftp.actions import POLL_JOB
from tend.hub.sftp.models import SftpSource
from tend.hub.sftp.polling import poll_source
from tend.jobs.registry import enqueue, job

DUE_JOB = "hub.sftp_poll_due"
POLL_ATTEMPTS = 3


@job(DUE_JOB, max_attempts=3, lease_seconds=120)
def poll_due(job_row) -> None:
    """Queue a poll for each enabled source whose time has come, and move its next time on
    (from now: a scheduler that was down polls once, not once per missed period)."""
    now = timezone.now()
    for source in SftpSource.objects.filter(enabled=True, next_poll_at__lte=now).only(
        "pk", "workspace_id", "every_minutes", "next_poll_at"
    ):
        moved = SftpSource.objects.filter(pk=source.pk, next_poll_at=source.next_poll_at).update(
            next_poll_at=now + source.every
        )
        if moved:
            enqueue(
                POLL_JOB,
                {"source_id": source.pk},
                workspace_id=source.workspace_id,
                unique_key=f"hub.sftp_poll:{source.pk}",
            )


@job(POLL_JOB, max_attempts=POLL_ATTEMPTS, lease_seconds=600)
def poll(job_row) -> None:
    """One poll; a failure is recorded on the source and raised, so the runner retries it
    (10 s, then 20 s); the last attempt's failure alerts the admins."""
    poll_source(
        job_row.payload["source_id"],
        holder=f"job:{job_row.pk}",
        last_attempt=job_row.attempts >= job_row.max_attempts,
    )
