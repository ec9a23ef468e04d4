"""Jobs that exist only for the tests: effects go to a table the tests create with raw SQL."""

import time

from django.db import connection
from django_scopes import get_scope

from tend.jobs.models import Job
from tend.jobs.registry import job

EFFECT_TABLE = "jobs_test_effect"
seen_scopes: list[dict] = []
seen_leases: list[tuple] = []


def record_effect(job_id: int) -> None:
    """Idempotent: one row per job however often it runs; ``runs`` counts the runs."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {EFFECT_TABLE} (job_id) VALUES (%s) "  # noqa: S608 (constant table name)
            f"ON CONFLICT (job_id) DO UPDATE SET runs = {EFFECT_TABLE}.runs + 1",
            [job_id],
        )


@job("tests.record_effect", max_attempts=25, lease_seconds=2)
def effect_job(job_row: Job) -> None:
    record_effect(job_row.pk)
    # A little work after the effect commits widens the window in which a kill leaves an
    # effect done but the job unfinished: the case idempotency exists for.
    time.sleep(job_row.payload.get("after", 0.004))


@job("tests.slow_effect", max_attempts=3, lease_seconds=30)
def slow_effect_job(job_row: Job) -> None:
    time.sleep(job_row.payload["seconds"])
    record_effect(job_row.pk)


@job("tests.fail", max_attempts=3)
def failing_job(job_row: Job) -> None:
    raise ValueError(job_row.payload.get("message", "boom"))


@job("tests.noop")
def noop_job(job_row: Job) -> None:
    return None


@job("tests.record_scope")
def scope_job(job_row: Job) -> None:
    seen_scopes.append(dict(get_scope()))


@job("tests.outlive_lease", lease_seconds=1)
def outlive_lease_job(job_row: Job) -> None:
    claimed_until = job_row.locked_until
    time.sleep(1.6)
    seen_leases.append((claimed_until, Job.objects.get(pk=job_row.pk).locked_until))
