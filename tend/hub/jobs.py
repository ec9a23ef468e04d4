"""The data hub's background jobs."""

from tend.hub.actions import RUN_JOB
from tend.hub.running import fail_import, run_import
from tend.jobs.registry import job

MAX_ATTEMPTS = 5


@job(RUN_JOB, max_attempts=MAX_ATTEMPTS, lease_seconds=300)
def run_import_job(job_row) -> None:
    """Run one import (see ``tend.hub.running``): resumable from the last committed chunk, so a
    killed worker's successor carries on where it stopped. On the last failed attempt the
    import is marked failed with the reason, so the report tells someone."""
    import_id = job_row.payload["import_id"]
    try:
        run_import(import_id)
    except Exception as exc:
        if job_row.attempts >= job_row.max_attempts:
            fail_import(import_id, f"{type(exc).__name__}: {exc}")
        raise
