"""The outbox's background jobs: one delivery attempt per job, and a sweep for lost jobs."""

from tend.jobs.registry import job
from tend.outbox import actions


@job(actions.DELIVER_JOB, max_attempts=5, lease_seconds=180)
def deliver(job_row) -> None:
    """Idempotent by the message's claim and status: a second run of a job whose message is
    already sent, or is being sent by another job, does nothing. SMTP failures are recorded
    on the message and retried on its own schedule, so they never raise here; an exception
    is a database problem, retried by the queue."""
    actions.deliver_message(
        job_row.payload["message_id"], claim=f"job:{job_row.pk}", job_id=job_row.pk
    )


@job("outbox.requeue_stalled", max_attempts=3, lease_seconds=300)
def requeue_stalled(job_row) -> None:
    actions.requeue_stalled()
