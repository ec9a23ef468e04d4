"""The events app's jobs: hand events to consumers, and the sweeps behind it (housekeeping
jobs have no workspace, so they run with scopes disabled)."""

from tend.events import actions
from tend.jobs.registry import job


@job(actions.DISPATCH_JOB, max_attempts=10, lease_seconds=300)
def dispatch(job_row) -> None:
    actions.dispatch(job_row.payload["workspace_id"])


@job("events.queue_stalled", max_attempts=3, lease_seconds=300)
def queue_stalled(job_row) -> None:
    actions.queue_stalled()


@job("events.purge", max_attempts=3, lease_seconds=600)
def purge(job_row) -> None:
    actions.purge()
