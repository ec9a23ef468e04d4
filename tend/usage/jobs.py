"""The usage app's background jobs: rollups and housekeeping."""

from tend.jobs.registry import job
from tend.usage.actions.housekeeping import prune_usage
from tend.usage.actions.metrics import advance_latest_values
from tend.usage.rollups import JOB, roll_up


@job(JOB, max_attempts=5, lease_seconds=600)
def roll_up_events(job_row) -> None:
    """Count new events into the rollups and refresh metrics (see ``tend.usage.rollups``),
    and make custom metric values sent ahead of time the latest once their day has come.

    Idempotent: the watermark moves in the same transaction as the counts, and a latest row
    is recomputed from the series."""
    roll_up()
    advance_latest_values()


@job("usage.prune", max_attempts=3, lease_seconds=3600)
def prune(job_row) -> None:
    """Delete raw events past each workspace's retention and expired ingestion records."""
    prune_usage()
