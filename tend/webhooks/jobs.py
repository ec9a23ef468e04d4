"""Outgoing webhooks' jobs: one attempt per job, and the sweeps behind them."""

from tend.jobs.registry import job
from tend.webhooks import actions


@job(actions.DELIVER_JOB, max_attempts=5, lease_seconds=120)
def deliver(job_row) -> None:
    """Idempotent by the delivery's claim and status: a delivery already delivered, not due,
    or being sent by another job is left alone. HTTP failures are recorded on the delivery
    and retried on its own schedule, never raised here."""
    actions.deliver(job_row.payload["delivery_id"], claim=f"job:{job_row.pk}")


@job("webhooks.requeue_stalled", max_attempts=3, lease_seconds=300)
def requeue_stalled(job_row) -> None:
    actions.requeue_stalled()


@job("webhooks.purge", max_attempts=3, lease_seconds=600)
def purge(job_row) -> None:
    actions.purge()
