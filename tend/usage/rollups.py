"""Rollups: the event log counted per account, day, activity and module, and per end user,
then turned into each account's and end user's metrics.

One job, ``usage.roll_up``, runs the whole thing. It is queued by ingestion (a few seconds
after events arrive) and by the schedule every 30 seconds, so metrics are fresh within a
minute, and it catches up by itself after downtime.

Steps of a run:

1. **High-water mark.** The highest event id below which every event is committed. SQLite
   has one writer at a time, so it is simply the maximum id. PostgreSQL assigns ids from a
   sequence and concurrent transactions commit in any order, so the run takes the ingest
   barrier (``store.INGEST_LOCK``) exclusively for an instant — no ingest transaction is
   open then — and reads the maximum inside it.
2. **Count, chunk by chunk.** For events with ids in (watermark, high], at most ``CHUNK``
   at a time, one transaction: lock the watermark row, group the chunk into a temporary
   table by (workspace, account, end user, local day, activity, module), add it to
   ``AccountDay``, ``AccountActivityDay`` and ``UserDay`` with ``ON CONFLICT … DO UPDATE SET
   events = events + excluded.events``, record first and last seen and bump ``dirty`` on
   ``AccountUsage``/``UserUsage``, and move the watermark. The watermark moves in the same
   transaction as the counts, so a run killed midway leaves nothing counted twice or lost.
3. **Roll forward** workspaces whose local date changed since their last full refresh: every
   metrics row becomes dirty, since windows such as "last 7 days" move at midnight.
4. **Refresh** dirty rows: read their windows from the rollups, compute frequency and
   engagement with NumPy (``metrics.py``), and write each row back only if its ``dirty`` is
   still the value read (a row touched again meanwhile stays dirty for the next run).

Local days: a day number is computed in SQL as ``(ts + offset) / 86400000`` with the
offset of the workspace's time zone at that instant (``tend.lib.dates.offset_spans``).
"""

import logging
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import repeat

import numpy as np
import orjson
from django.db import connection, models, transaction
from django.db.models import F
from django.db.models.fields.json import KT
from django.utils import timezone
from django_scopes import scopes_disabled

from tend.accounts.models import Account
from tend.jobs.registry import enqueue
from tend.lib.dates import MS_PER_DAY, offset_spans, today, zone
from tend.usage import metrics
from tend.usage.ingest.store import INGEST_LOCK
from tend.usage.models import (
    AccountActivityDay,
    AccountDay,
    AccountUsage,
    RollupState,
    UsageEvent,
    UsageSettings,
    UserDay,
    UserUsage,
)
from tend.workspaces.models import Workspace

log = logging.getLogger("tend.usage.rollups")

STATE = "events"
JOB = "usage.roll_up"
# Events per counting transaction. Rollup tables are ordered by account, so a chunk that
# spans many accounts rewrites pages all over them: a large backlog is counted in a few big
# chunks (each holds SQLite's write lock for seconds — ingestion waits, within its busy
# timeout), the steady trickle in small ones.
CHUNK = {"sqlite": 250_000, "postgresql": 1_000_000}
CATCH_UP_CHUNKS = 4
MAX_CHUNK = 3_000_000
# PostgreSQL: refresh planner statistics after counting at least this many events in a run.
ANALYZE_AFTER_EVENTS = 100_000
# Ingestion asks for a run at most this often per process, due this long after the request.
REQUEST_EVERY_SECONDS = 2.0
REQUEST_DELAY = timedelta(seconds=2)
WRITE_BATCH = 5_000

_last_request = 0.0


def request_rollup() -> None:
    """Queue a rollup soon (inside the caller's transaction); collapses with a queued one."""
    global _last_request
    now = time.monotonic()
    if now - _last_request < REQUEST_EVERY_SECONDS:
        return
    enqueue(JOB, unique_key=JOB, due_at=timezone.now() + REQUEST_DELAY)
    # Only once the enqueue is committed: a rolled-back request must not silence the next.
    transaction.on_commit(lambda: _remember_request(now))


def _remember_request(at: float) -> None:
    global _last_request
    _last_request = at


@dataclass
class RollupResult:
    events: int = 0
    chunks: int = 0
    accounts_refreshed: int = 0
    users_refreshed: int = 0
    workspaces: set = field(default_factory=set)


def roll_up(now=None) -> RollupResult:
    """Count every committed event not counted yet, then refresh dirty metrics."""
    result = RollupResult()
    with scopes_disabled():
        high = high_water_mark()
        watermark = RollupState.objects.filter(name=STATE).values_list("last_event_id", flat=True)
        backlog = high - _first_uncounted(watermark.first() or 0, high) + 1
        chunk = max(
            CHUNK.get(connection.vendor, CHUNK["sqlite"]),
            min(MAX_CHUNK, -(-backlog // CATCH_UP_CHUNKS)),
        )
        while True:
            counted = _count_chunk(high, chunk)
            if counted is None:
                break
            result.events += counted
            result.chunks += 1
        if result.events >= ANALYZE_AFTER_EVENTS:
            _refresh_statistics()
        roll_forward(now)
        for workspace in Workspace.objects.filter(pk__in=_workspaces_with_dirty_rows()):
            accounts, users = refresh(workspace, now)
            result.accounts_refreshed += accounts
            result.users_refreshed += users
            result.workspaces.add(workspace.pk)
    return result


def high_water_mark() -> int:
    table = connection.ops.quote_name(UsageEvent._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [INGEST_LOCK])
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        return cursor.fetchone()[0]


def _refresh_statistics() -> None:
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


def _first_uncounted(watermark: int, high: int) -> int:
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


def _count_chunk(high: int, size: int) -> int | None:
    """Count the next chunk of events up to ``high``; None when there is nothing left."""
    with derived_data_transaction():
        state = _lock_state()
        low = state.last_event_id
        if low >= high:
            return None
        start = _first_uncounted(low, high)
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


def _workspaces_with_dirty_rows() -> set[int]:
    ids = set(
        AccountUsage.objects.filter(dirty__gt=0).values_list("workspace_id", flat=True).distinct()
    )
    ids |= set(
        UserUsage.objects.filter(dirty__gt=0).values_list("workspace_id", flat=True).distinct()
    )
    return ids


def roll_forward(now=None) -> list[int]:
    """Mark every metrics row of a workspace dirty once its local date has moved on."""
    moved = []
    for settings in UsageSettings.objects.select_related("workspace"):
        local_today = today(zone(settings.workspace.time_zone), now)
        if settings.metrics_day == local_today:
            continue
        with transaction.atomic():
            AccountUsage.objects.filter(workspace_id=settings.workspace_id).update(
                dirty=F("dirty") + 1
            )
            UserUsage.objects.filter(workspace_id=settings.workspace_id).update(
                dirty=F("dirty") + 1
            )
            UsageSettings.objects.filter(pk=settings.pk).update(metrics_day=local_today)
        moved.append(settings.workspace_id)
    return moved


# --- refreshing metrics ------------------------------------------------------------------------


def _window_sums(t: int, alias: str = "d") -> str:
    """SELECT expressions summing a day table over the usual windows ending on day ``t``."""

    def since(days: int) -> str:
        return f"{alias}.day >= {t - days + 1}"

    parts = [
        f"SUM(CASE WHEN {alias}.day = {t} THEN {alias}.events ELSE 0 END)",
        f"SUM(CASE WHEN {alias}.day = {t - 1} THEN {alias}.events ELSE 0 END)",
        *(f"SUM(CASE WHEN {since(n)} THEN {alias}.events ELSE 0 END)" for n in (3, 7, 14, 30, 90)),
        f"SUM(CASE WHEN {since(7)} THEN {alias}.seconds ELSE 0 END)",
        f"SUM(CASE WHEN {since(30)} THEN {alias}.seconds ELSE 0 END)",
        f"COUNT(DISTINCT CASE WHEN {since(14)} AND {alias}.events > 0 THEN {alias}.day END)",
        f"COUNT(DISTINCT CASE WHEN {since(7)} AND {alias}.events > 0 THEN {alias}.day END)",
        f"COUNT(DISTINCT CASE WHEN {since(14)} AND {alias}.day < {t - 6} AND {alias}.events > 0 THEN {alias}.day END)",
        f"SUM(CASE WHEN {alias}.day < {t - 13} AND {alias}.day >= {t - 89} THEN {alias}.events ELSE 0 END)",
    ]
    return ", ".join(parts)


WINDOW_FIELDS = (
    "events_today",
    "events_yesterday",
    "events_3d",
    "events_7d",
    "events_14d",
    "events_30d",
    "events_90d",
    "seconds_7d",
    "seconds_30d",
    "active_days_14d",
)


def _read_windows(
    model, key: str, day_model, day_key: str, workspace_id: int, t: int
) -> dict[int, list]:
    """For each dirty row of ``model``: [dirty, first_seen_ms, *window sums, week1 days,
    week2 days, baseline events]."""
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    days = q(day_model._meta.db_table)
    # Only names from _meta and integers go into the text.
    sql = (
        f"SELECT u.{key}, u.dirty, u.first_seen_ms, {_window_sums(t)} "  # noqa: S608
        f"FROM {table} u LEFT JOIN {days} d ON d.{day_key} = u.{key} AND d.day >= {t - 89} AND d.day <= {t} "
        f"WHERE u.workspace_id = %s AND u.dirty > 0 GROUP BY u.{key}, u.dirty, u.first_seen_ms"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [workspace_id])
        return {row[0]: list(row[1:]) for row in cursor.fetchall()}


def refresh(workspace: Workspace, now=None) -> tuple[int, int]:
    """Recompute the dirty metrics rows of ``workspace``; return (accounts, end users) written."""
    tz = zone(workspace.time_zone)
    t = today(tz, now)
    settings, _ = UsageSettings.objects.get_or_create(workspace=workspace)
    accounts = _refresh_accounts(workspace, settings, t, tz)
    users = _refresh_users(workspace, t, tz)
    return accounts, users


def _first_days(first_seen_ms: list, tz) -> np.ndarray:
    """Local day numbers of first-seen instants (NaN where unknown)."""
    if not first_seen_ms:
        return np.array([], dtype=float)
    offsets = {}
    result = np.empty(len(first_seen_ms), dtype=float)
    for i, ms in enumerate(first_seen_ms):
        if ms is None:
            result[i] = np.nan
            continue
        hour = ms // 3_600_000
        if hour not in offsets:
            offsets[hour] = offset_spans(tz, ms, ms)[0][1]
        result[i] = (ms + offsets[hour]) // MS_PER_DAY
    return result


def _common(rows: dict[int, list], t: int, tz) -> dict:
    """Columns shared by accounts and users, from :func:`_read_windows` rows."""
    keys = list(rows)
    values = list(rows.values())
    matrix = np.array([v[2:] for v in values], dtype=float) if values else np.zeros((0, 14))
    matrix = np.nan_to_num(matrix)
    columns = {name: matrix[:, i] for i, name in enumerate(WINDOW_FIELDS)}
    week1, week2, baseline_events = matrix[:, 10], matrix[:, 11], matrix[:, 12]
    frequency = metrics.visit_frequency(
        columns["active_days_14d"], week1, week2, columns["events_30d"]
    )
    first_days = _first_days([v[1] for v in values], tz)
    return {
        "keys": keys,
        "dirty": [v[0] for v in values],
        "columns": columns,
        "frequency": frequency,
        "first_days": first_days,
        "baseline_events": baseline_events,
    }


def _refresh_accounts(workspace: Workspace, settings: UsageSettings, t: int, tz) -> int:
    rows = _read_windows(AccountUsage, "account_id", AccountDay, "account_id", workspace.id, t)
    if not rows:
        return 0
    common = _common(rows, t, tz)
    keys = common["keys"]
    users = _active_users(workspace.id, t)
    modules = _modules(workspace.id, t)
    info = {
        pk: (status, licences)
        for pk, status, licences in Account.objects.filter(workspace=workspace, usage__dirty__gt=0)
        .annotate(licences=KT(f"attributes__{settings.licence_attribute}"))
        .values_list("id", "status", "licences")
    }
    average = metrics.daily_average(common["columns"]["events_14d"], common["first_days"], t)
    trend = metrics.trend_score(
        average, common["baseline_events"], metrics.baseline_days(common["first_days"], t)
    )
    statuses = np.array([info.get(k, ("", None))[0] for k in keys], dtype=object)
    engagement = np.zeros(len(keys), dtype=int)
    peers = _peer_averages(
        workspace.id, t, tz, {k: (statuses[i], float(average[i])) for i, k in enumerate(keys)}
    )
    for status in set(statuses):
        mask = statuses == status
        engagement[mask] = metrics.engagement(average[mask], peers.get(status, []), trend[mask])

    columns = _window_columns(common)
    active = [users.get(pk, (0, 0, 0)) for pk in keys]
    for position, name in enumerate(("active_users_7d", "active_users_14d", "active_users_30d")):
        columns[name] = [a[position] for a in active]
    columns["modules_30d"] = [sorted(modules.get(pk, ())) for pk in keys]
    columns["engagement"] = engagement.tolist()
    columns["licence_utilisation"] = [
        round(a[1] / licences, 4) if (licences := _number(info.get(pk, ("", None))[1])) else None
        for pk, a in zip(keys, active, strict=True)
    ]
    return _write(AccountUsage, "account_id", columns, keys, common["dirty"], t)


def _refresh_users(workspace: Workspace, t: int, tz) -> int:
    rows = _read_windows(UserUsage, "end_user_id", UserDay, "end_user_id", workspace.id, t)
    if not rows:
        return 0
    common = _common(rows, t, tz)
    return _write(
        UserUsage, "end_user_id", _window_columns(common), common["keys"], common["dirty"], t
    )


def _window_columns(common: dict) -> dict[str, list]:
    """The window metrics and visit frequency as plain lists, column by column."""
    columns = {}
    for name in WINDOW_FIELDS:
        values = common["columns"][name]
        columns[name] = (
            values.tolist() if name.startswith("seconds") else values.astype(np.int64).tolist()
        )
    columns["visit_frequency"] = common["frequency"].tolist()
    return columns


def _write(model, key: str, columns: dict[str, list], keys: list, dirty: list, t: int) -> int:
    """Write refreshed rows whose ``dirty`` is still the value read, in short transactions.

    SQLite runs one prepared ``UPDATE`` per row (``executemany``, no round trips); PostgreSQL
    gets each batch as one JSON document joined in a single ``UPDATE … FROM``, since the
    driver would otherwise send the rows one by one.
    """
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    names = (*columns, "day", "refreshed_at")
    now = timezone.now()
    values = [*columns.values(), repeat(t), repeat(now), keys, dirty]
    written = 0
    if connection.vendor == "postgresql":
        fields = [model._meta.get_field(name) for name in names]
        types = ", ".join(f"{q(f.column)} {f.db_type(connection)}" for f in fields)
        sets = ", ".join(f"{q(f.column)} = r.{q(f.column)}" for f in fields)
        sql = (
            f"UPDATE {table} AS u SET {sets}, dirty = 0 "  # noqa: S608
            f"FROM json_to_recordset(CAST(%s AS json)) AS r({types}, row_key bigint, row_dirty bigint) "
            f"WHERE u.{key} = r.row_key AND u.dirty = r.row_dirty"
        )
        labels = (*(f.column for f in fields), "row_key", "row_dirty")
        records = [dict(zip(labels, row, strict=True)) for row in zip(*values, strict=False)]
        for start in range(0, len(records), WRITE_BATCH):
            with derived_data_transaction(), connection.cursor() as cursor:
                cursor.execute(sql, [orjson.dumps(records[start : start + WRITE_BATCH]).decode()])
                written += cursor.rowcount
        return written
    json_columns = [
        i
        for i, name in enumerate(names)
        if isinstance(model._meta.get_field(name), models.JSONField)
    ]
    values[-3] = repeat(model._meta.get_field("refreshed_at").get_db_prep_save(now, connection))
    rows = list(zip(*values, strict=False))
    if json_columns:
        rows = [
            tuple(orjson.dumps(v).decode() if i in json_columns else v for i, v in enumerate(row))
            for row in rows
        ]
    assignments = ", ".join(f"{q(n)} = %s" for n in names)
    sql = f"UPDATE {table} SET {assignments}, dirty = 0 WHERE {key} = %s AND dirty = %s"  # noqa: S608
    for start in range(0, len(rows), WRITE_BATCH):
        with derived_data_transaction(), connection.cursor() as cursor:
            cursor.executemany(sql, rows[start : start + WRITE_BATCH])
            written += cursor.rowcount
    return written


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _active_users(workspace_id: int, t: int) -> dict[int, tuple[int, int, int]]:
    """Distinct end users active in 7, 14 and 30 days, per dirty account."""
    q = connection.ops.quote_name
    usage = q(AccountUsage._meta.db_table)
    days = q(UserDay._meta.db_table)
    sql = (
        "SELECT d.account_id, "  # noqa: S608
        f"COUNT(DISTINCT CASE WHEN d.day >= {t - 6} THEN d.end_user_id END), "
        f"COUNT(DISTINCT CASE WHEN d.day >= {t - 13} THEN d.end_user_id END), "
        "COUNT(DISTINCT d.end_user_id) "
        f"FROM {days} d JOIN {usage} u ON u.account_id = d.account_id "
        f"WHERE u.workspace_id = %s AND u.dirty > 0 AND d.day >= {t - 29} AND d.day <= {t} "
        "GROUP BY d.account_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [workspace_id])
        return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in cursor.fetchall()}


def _modules(workspace_id: int, t: int) -> dict[int, set[str]]:
    rows = (
        AccountActivityDay.objects.filter(
            workspace_id=workspace_id, day__gte=t - 29, day__lte=t, account__usage__dirty__gt=0
        )
        .exclude(module="")
        .values_list("account_id", "module")
        .distinct()
    )
    modules = defaultdict(set)
    for account_id, module in rows:
        modules[account_id].add(module)
    return modules


def _peer_averages(
    workspace_id: int, t: int, tz, fresh: dict[int, tuple[str, float]]
) -> dict[str, np.ndarray]:
    """Daily averages (≥ 1 a day) of the workspace's accounts by status: the engagement peers.

    Accounts being refreshed (``fresh``: id → (status, new average)) count with their new
    average, the others with the one their stored row gives.
    """
    stored = [
        row
        for row in AccountUsage.objects.filter(
            workspace_id=workspace_id, events_14d__gte=1
        ).values_list("account_id", "account__status", "events_14d", "first_seen_ms")
        if row[0] not in fresh
    ]
    averages = metrics.daily_average(
        [row[2] for row in stored], _first_days([row[3] for row in stored], tz), t
    )
    by_status = defaultdict(list)
    for row, average in zip(stored, averages, strict=True):
        by_status[row[1]].append(average)
    for status, average in fresh.values():
        by_status[status].append(average)
    return {
        status: np.array([a for a in values if a >= metrics.ENGAGEMENT_MIN_PER_DAY])
        for status, values in by_status.items()
    }
