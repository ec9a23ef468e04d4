import pytest
from django.db import connection

import tend.jobs.tests.sample_jobs  # noqa: F401  (registers the tests.* kinds)
from tend.jobs.tests.sample_jobs import EFFECT_TABLE


@pytest.fixture
def effects(transactional_db):
    """The test-only effect table; returns a function giving {job_id: runs}."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {EFFECT_TABLE}")
        cursor.execute(f"CREATE TABLE {EFFECT_TABLE} (job_id BIGINT PRIMARY KEY, runs INTEGER NOT NULL DEFAULT 1)")

    def read() -> dict[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT job_id, runs FROM {EFFECT_TABLE}")  # noqa: S608
            return dict(cursor.fetchall())

    yield read
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {EFFECT_TABLE}")

