"""Counting events into the rollups, chunk by chunk above the watermark (steps 1 and 2 of
``tend.usage.rollups``)."""

import logging
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone

from tend.lib.dates import MS_PER_DAY, offset_spans, zone
from tend.usage.ingest.store import INGEST_LOCK
from tend.usage.models import (
    AccountActivityDay,
    AccountDay,
    AccountUsage,
    RollupState,
    UsageEvent,
    UserDay,
    UserUsage,
)
from tend.workspaces.models import Workspace

log = logging.getLogger("tend.usage.rollups")

STATE = "events"
# Events per counting transaction. Rollup tables are ordered by account, so a chunk that
# spans many accounts rewrites pages all over them: a large backlog is counted in a few big
# chunks (each holds SQLite's write lock for seconds — ingestion waits, within its busy
# timeout), the steady trickle in small ones.
CHUNK = {"sqlite": 250_000, "postgresql": 1_000_000}
CATCH_UP_CHUNKS = 4
MAX_CHUNK = 3_000_000
# PostgreSQL: refresh planner statistics after counting at least this many events in a run.
ANALYZE_AFTER_EVENTS = 100_000


def high_water_mark() -> int:
    table = connection.ops.quote_name(UsageEvent._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [INGEST_LOCK])
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        return cursor.fetchone()[0]


def refresh_statistics() -> None:
    """After counting a large backlog, tell PostgreSQL's planner how big the rollups grew.

    The refresh joins metric rows with day rows: with the statistics of smaller tables the
    planner chose a nested loop over sequential scans, and a refresh that takes a second ran
    for many minutes (seen in bench/ingest.py). Autovacuum would analyze them eventually;
    the refresh cannot wait for it.
    """
    if connection.vendor != "postgresql":
        return
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in (AccountDay, AccountActivityDay, UserDay, AccountUsage, UserUsage):
            cursor.execute(f"ANALYZE {q(model._meta.db_table)}")


def first_uncounted(watermark: int, high: int) -> int:
    """The id of the first event above ``watermark``, or ``high + 1`` when there is none (ids
    have gaps: PostgreSQL sequences skip the ids of rolled-back inserts, pruning removes the
    oldest)."""
    first = (
        UsageEvent.objects.filter(id__gt=watermark, id__lte=high)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    return first if first is not None else high + 1


def _lock_state() -> RollupState:
    RollupState.objects.get_or_create(name=STATE)
    return RollupState.objects.select_for_update().get(name=STATE)


@contextmanager
def derived_data_transaction():
    """A transaction that writes only derived data (rollups, metrics): it need not wait for
    the disk at commit.

    A power cut may lose the last such commits, and nothing with them: the watermark moves in
    the same transaction as the counts, so those events are counted again, and dirty metric
    rows stay dirty. PostgreSQL: ``synchronous_commit`` off and memory to group in; SQLite:
    ``synchronous=NORMAL`` on this connection while it lasts (ingestion keeps ``FULL``).
    """
    relax = connection.vendor == "sqlite" and not connection.in_atomic_block
    if relax:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=NORMAL")
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit = off")
                    cursor.execute("SET LOCAL work_mem = '256MB'")
            yield
    finally:
        if relax:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=FULL")


def count_chunk(high: int, size: int) -> int | None:
    """Count the next chunk of events up to ``high``; None when there is nothing left."""
    with derived_data_transaction():
        state = _lock_state()
        low = state.last_event_id
        if low >= high:
            return None
        start = first_uncounted(low, high)
        if start > high:  # only a gap of ids is left: move past it
            state.last_event_id = high
            state.save(update_fields=["last_event_id"])
            return None
        upper = min(start - 1 + size, high)
        counted = _aggregate(low, upper)
        state.last_event_id = upper
        state.updated_at = timezone.now()
        state.save(update_fields=["last_event_id", "updated_at"])
    log.info("rollup counted %s events (ids %s–%s)", counted, low + 1, upper)
    return counted


def _offset_sql(cursor, low: int, high: int) -> str:
    """SQL for the UTC offset (ms) of each event's workspace at the event's instant.

    Only integers computed here go into the text. UTC workspaces (the usual case) add 0.
    """
    zones = {
        ws_id: zone(name)
        for ws_id, name in Workspace.objects.exclude(time_zone="UTC").values_list("id", "time_zone")
    }
    zones = {ws_id: tz for ws_id, tz in zones.items() if str(tz) != "UTC"}
    if not zones:
        return "0"
    table = connection.ops.quote_name(UsageEvent._meta.db_table)
    cursor.execute(
        f"SELECT workspace_id, MIN(ts), MAX(ts) FROM {table} WHERE id > %s AND id <= %s GROUP BY workspace_id",  # noqa: S608
        [low, high],
    )
    branches = []
    for ws_id, first, last in cursor.fetchall():
        tz = zones.get(ws_id)
        if tz is None:
            continue
        spans = offset_spans(tz, int(first), int(last) + 1)
        if len(spans) == 1:
            expr = str(int(spans[0][1]))
        else:
            cases = " ".join(
                f"WHEN ts < {int(until)} THEN {int(offset)}" for until, offset in spans[:-1]
            )
            expr = f"CASE {cases} ELSE {int(spans[-1][1])} END"
        branches.append(f"WHEN {int(ws_id)} THEN {expr}")
    if not branches:
        return "0"
    return f"(CASE workspace_id {' '.join(branches)} ELSE 0 END)"


def _aggregate(low: int, high: int) -> int:
    """Add events with ids in (low, high] to the rollups; return how many there were."""
    q = connection.ops.quote_name
    events = q(UsageEvent._meta.db_table)
    account_day = q(AccountDay._meta.db_table)
    activity_day = q(AccountActivityDay._meta.db_table)
    user_day = q(UserDay._meta.db_table)
    account_usage = q(AccountUsage._meta.db_table)
    user_usage = q(UserUsage._meta.db_table)
    end_users = q(UserDay._meta.get_field("end_user").related_model._meta.db_table)
    chunk = "usage_rollup_chunk"
    with connection.cursor() as cursor:
        offset = _offset_sql(cursor, low, high)
        cursor.execute(f"DROP TABLE IF EXISTS {chunk}")
        # Only table names from _meta and integers computed above are formatted in.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {chunk} AS "  # noqa: S608
            # An account belongs to one workspace: grouping by the account alone is enough,
            # and one key fewer makes SQLite's sort a quarter faster.
            f"SELECT account_id AS account, end_user_id AS end_user, "
            f"(ts + {offset}) / {MS_PER_DAY} AS day, activity, module, MIN(workspace_id) AS ws, "
            "COUNT(*) AS events, COALESCE(SUM(duration), 0) AS seconds, MIN(ts) AS first_ts, "
            f"MAX(ts) AS last_ts FROM {events} WHERE id > %s AND id <= %s GROUP BY 1, 2, 3, 4, 5",
            [low, high],
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {chunk}")  # a fresh table has no statistics
        cursor.execute(f"SELECT COALESCE(SUM(events), 0) FROM {chunk}")  # noqa: S608
        counted = int(cursor.fetchone()[0])
        if counted == 0:
            cursor.execute(f"DROP TABLE {chunk}")
            return 0

        def add(table: str, columns: str, select: str, source: str, conflict: str) -> None:
            cursor.execute(
                f"INSERT INTO {table} ({columns}, events, seconds) "  # noqa: S608
                f"SELECT {select}, SUM(c.events), SUM(c.seconds) FROM {source} WHERE true "
                f"GROUP BY {select} ON CONFLICT ({conflict}) DO UPDATE SET "
                f"events = {table}.events + excluded.events, seconds = {table}.seconds + excluded.seconds"
            )

        add(
            account_day,
            "workspace_id, account_id, day",
            "c.ws, c.account, c.day",
            f"{chunk} c",
            "account_id, day",
        )
        add(
            activity_day,
            "workspace_id, account_id, day, activity, module",
            "c.ws, c.account, c.day, c.activity, c.module",
            f"{chunk} c",
            "account_id, day, activity, module",
        )
        # Events keep the id of an end user deleted since; the join leaves those out.
        add(
            user_day,
            "workspace_id, account_id, end_user_id, day",
            "c.ws, c.account, c.end_user, c.day",
            f"{chunk} c JOIN {end_users} u ON u.id = c.end_user",
            "account_id, day, end_user_id",
        )

        def seen(table: str, key: str, column: str, source: str) -> None:
            earliest = (
                f"CASE WHEN {table}.first_seen_ms IS NULL OR excluded.first_seen_ms < {table}.first_seen_ms "
                f"THEN excluded.first_seen_ms ELSE {table}.first_seen_ms END"
            )
            latest = (
                f"CASE WHEN {table}.last_seen_ms IS NULL OR excluded.last_seen_ms > {table}.last_seen_ms "
                f"THEN excluded.last_seen_ms ELSE {table}.last_seen_ms END"
            )
            cursor.execute(
                f"INSERT INTO {table} ({key}, workspace_id, first_seen_ms, last_seen_ms, dirty) "  # noqa: S608
                f"SELECT {column}, c.ws, MIN(c.first_ts), MAX(c.last_ts), 1 FROM {source} WHERE true "
                f"GROUP BY {column}, c.ws ON CONFLICT ({key}) DO UPDATE SET "
                f"first_seen_ms = {earliest}, last_seen_ms = {latest}, dirty = {table}.dirty + 1"
            )

        seen(account_usage, "account_id", "c.account", f"{chunk} c")
        seen(
            user_usage,
            "end_user_id",
            "c.end_user",
            f"{chunk} c JOIN {end_users} u ON u.id = c.end_user",
        )
        cursor.execute(f"DROP TABLE {chunk}")
    return counted
