"""The usage app's background jobs: rollups and housekeeping."""

from tend.jobs.registry import job
from tend.usage.actions.housekeeping import prune_usage
from tend.usage.rollups import JOB, roll_up


@job(JOB, max_attempts=5, lease_seconds=600)
def roll_up_events(job_row) -> None:
    """Count new events into the rollups and refresh metrics (see ``tend.usage.rollups``).

    Idempotent: the watermark moves in the same transaction as the counts."""
    roll_up()


@job("usage.prune", max_attempts=3, lease_seconds=3600)
def prune(job_row) -> None:
    """Delete raw events past each workspace's retention and expired ingestion records."""
    prune_usage()
