"""A step kind that exists only for the tests: it records its effect in a table the tests
create with raw SQL, keyed by the step's idempotency key, as an outside system honouring
the key would (one effect per key; ``runs`` counts how often the step ran)."""

import time

from django.db import connection

from tend.plays import steps
from tend.plays.steps.base import Done, StepKind

EFFECT_TABLE = "plays_test_effect"


class RecordEffect(StepKind):
    kind = "tests_record_effect"
    label = "Record an effect (tests)"

    def describe(self, config, ctx) -> dict:
        return {"summary": "Record an effect.", "changes": []}

    def run(self, ctx):
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {EFFECT_TABLE} (key) VALUES (%s) "  # noqa: S608 (constant table name)
                f"ON CONFLICT (key) DO UPDATE SET runs = {EFFECT_TABLE}.runs + 1",
                [ctx.key],
            )
        # A little work after the effect commits widens the window in which a kill leaves
        # the effect done but the run not moved on: the case the key exists for.
        time.sleep(0.004)
        return Done("recorded", {"key": ctx.key})


def register() -> None:
    steps.kinds()
    steps._kinds[RecordEffect.kind] = RecordEffect()


def create_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {EFFECT_TABLE}")
        cursor.execute(f"CREATE TABLE {EFFECT_TABLE} (key VARCHAR(200) PRIMARY KEY, runs INTEGER NOT NULL DEFAULT 1)")


def read_effects() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, runs FROM {EFFECT_TABLE}")  # noqa: S608
        return dict(cursor.fetchall())


def drop_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {EFFECT_TABLE}")
