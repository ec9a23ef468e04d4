"""The workspaces app's background jobs."""

from tend.jobs.registry import job
from tend.workspaces.idempotency import purge_expired_idempotency_keys


@job("workspaces.purge_idempotency_keys", max_attempts=3, lease_seconds=600)
def purge_idempotency_keys(job_row) -> None:
    """Idempotency keys promise a replay for 24 hours; older ones only take space."""
    purge_expired_idempotency_keys()
