"""Raw SQL for the ingestion hot path: claiming message ids, appending events, counting.

Why not the ORM: a 2,000-event batch through ``bulk_create`` builds 2,000 model instances
and runs every value through ``get_db_prep_save``, which costs more than the database's own
work. Here rows are tuples: SQLite gets ``executemany`` of one prepared statement, PostgreSQL
gets ``COPY``. Only quoted names from the models' ``_meta`` are formatted into SQL; values
are always bound.

On PostgreSQL, every ingest transaction holds a shared advisory lock that the rollup job
takes exclusively for an instant (see :func:`ingest_lock` and ``rollups/counting.py``): ids come from
a sequence and concurrent transactions may commit out of id order, so the rollup needs a
moment when no ingest transaction is open to know that every id below the maximum is
committed.
"""

import datetime
import functools

import orjson
from django.db import connection

from tend.accounts.bulk.sql import variables_per_statement
from tend.usage.models import (
    IngestCount,
    IngestRejection,
    ReceivedMessage,
    UnmappedTrait,
    UsageEvent,
)

# Advisory lock key shared by ingestion (shared) and the rollup (exclusive): "tendusag".
INGEST_LOCK = 0x74656E6475736167

EVENT_COLUMNS = (
    "workspace_id",
    "account_id",
    "end_user_id",
    "ts",
    "activity",
    "module",
    "duration",
    "properties",
    "source",
    "message_id",
)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model) -> str:
    return _q(model._meta.db_table)


def ingest_lock() -> None:
    """Inside an ingest transaction: take the shared side of the rollup barrier (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [INGEST_LOCK])


def claim_message_ids(workspace_id: int, keyed: dict[int, str], now_ms: int) -> set[int]:
    """Record the message ids of a batch; return the keys that were not already taken.

    ``keyed`` maps key → message id (ids repeated inside the batch are already folded).
    A key that is taken by a *different* message id (a 64-bit hash collision) is returned as
    new: the event is stored, and only its dedupe row is missing.
    """
    if not keyed:
        return set()
    table = _table(ReceivedMessage)
    columns = "workspace_id, key, message_id, received_at"
    tail = "ON CONFLICT (workspace_id, key) DO NOTHING RETURNING key"
    claimed: set[int] = set()
    items = list(keyed.items())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            document = orjson.dumps([[key, mid] for key, mid in items]).decode()
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "  # noqa: S608
                "SELECT %s, (r->>0)::bigint, r->>1, %s FROM json_array_elements(CAST(%s AS json)) AS r "
                f"{tail}",
                [workspace_id, now_ms, document],
            )
            claimed.update(row[0] for row in cursor.fetchall())
        else:
            per_statement = max(1, variables_per_statement() // 4)
            for start in range(0, len(items), per_statement):
                part = items[start : start + per_statement]
                params = []
                for key, mid in part:
                    params.extend((workspace_id, key, mid, now_ms))
                values = ", ".join(["(%s, %s, %s, %s)"] * len(part))
                cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values} {tail}", params)  # noqa: S608
                claimed.update(row[0] for row in cursor.fetchall())
        taken = [key for key, _ in items if key not in claimed]
        if taken:
            claimed.update(_collisions(cursor, table, workspace_id, taken, keyed))
    return claimed


def _collisions(
    cursor, table: str, workspace_id: int, taken: list[int], keyed: dict[int, str]
) -> set[int]:
    """Keys among ``taken`` whose stored message id is not the one we hold."""
    stored: dict[int, str] = {}
    per_statement = max(1, variables_per_statement() - 1)
    for start in range(0, len(taken), per_statement):
        part = taken[start : start + per_statement]
        marks = ", ".join(["%s"] * len(part))
        cursor.execute(
            f"SELECT key, message_id FROM {table} WHERE workspace_id = %s AND key IN ({marks})",  # noqa: S608
            [workspace_id, *part],
        )
        stored.update(cursor.fetchall())
    return {key for key in taken if stored.get(key, keyed[key]) != keyed[key]}


@functools.cache
def _event_statement(vendor: str) -> str:
    table = _table(UsageEvent)
    columns = ", ".join(_q(c) for c in EVENT_COLUMNS)
    if vendor == "postgresql":
        return f"COPY {table} ({columns}) FROM STDIN"
    marks = ", ".join(["%s"] * len(EVENT_COLUMNS))
    return f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608


def insert_events(rows: list[tuple]) -> None:
    """Append events: tuples in the order of :data:`EVENT_COLUMNS`, ``properties`` as JSON text."""
    if not rows:
        return
    statement = _event_statement(connection.vendor)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(statement, rows)


def add_counts(
    workspace_id: int,
    source: str,
    hour: datetime.datetime,
    received: int,
    stored: int,
    duplicates: int,
    rejected: int,
) -> None:
    """Add one request's numbers to the source's row for the hour."""
    table = _table(IngestCount)
    hour_value = connection.ops.adapt_datetimefield_value(hour)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (workspace_id, source, hour, received, stored, duplicates, rejected) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (workspace_id, hour, source) DO UPDATE SET "
            f"received = {table}.received + excluded.received, "
            f"stored = {table}.stored + excluded.stored, "
            f"duplicates = {table}.duplicates + excluded.duplicates, "
            f"rejected = {table}.rejected + excluded.rejected",
            [workspace_id, source, hour_value, received, stored, duplicates, rejected],
        )


def insert_rejections(
    workspace_id: int, source: str, received_at: datetime.datetime, rejections
) -> None:
    if not rejections:
        return
    IngestRejection.objects.bulk_create(
        [
            IngestRejection(
                workspace_id=workspace_id,
                source=source,
                received_at=received_at,
                reason=r.reason,
                field=r.field[:200],
                message=r.message[:500],
                index=r.index,
                sample=r.sample,
            )
            for r in rejections
        ],
        batch_size=500,
    )


def tally_unmapped(
    workspace_id: int,
    source: str,
    object_type: str,
    names: dict[str, tuple[int, str]],
    now: datetime.datetime,
) -> None:
    """Count trait names the data model does not define: name → (times seen, a sample value)."""
    if not names:
        return
    table = _table(UnmappedTrait)
    now_value = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        for name, (seen, sample) in sorted(names.items()):
            cursor.execute(
                f"INSERT INTO {table} (workspace_id, object_type, name, source, sample, seen, first_seen_at, last_seen_at) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (workspace_id, object_type, name) DO UPDATE SET "
                f"seen = {table}.seen + excluded.seen, last_seen_at = excluded.last_seen_at, "
                "sample = excluded.sample, source = excluded.source",
                [
                    workspace_id,
                    object_type,
                    name[:200],
                    source,
                    sample[:200],
                    seen,
                    now_value,
                    now_value,
                ],
            )
