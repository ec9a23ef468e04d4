"""Rolling metrics forward at midnight and refreshing dirty metric rows (steps 3 and 4 of
``tend.usage.rollups``)."""

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from itertools import groupby, repeat
from operator import itemgetter

import numpy as np
import orjson
from django.db import connection, models, transaction
from django.db.models import F
from django.db.models.fields.json import KT
from django.utils import timezone

from tend.accounts.models import Account
from tend.lib import pg_copy
from tend.lib.dates import MS_PER_DAY, offset_spans, today, zone
from tend.usage import metrics
from tend.usage.models import (
    AccountActivityDay,
    AccountDay,
    AccountUsage,
    UsageSettings,
    UserDay,
    UserUsage,
)
from tend.usage.rollups.counting import derived_data_transaction
from tend.workspaces.models import Workspace

WRITE_BATCH = 5_000


def workspaces_with_dirty_rows() -> set[int]:
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

# Bit i of an active-days mask is "active i days before the windows' last day" (0 = that day).
ACTIVE_MASK_DAYS = 14
WEEK1_BITS = (1 << 7) - 1  # days 0–6 back: the last 7 days
ONES = np.array([bin(mask).count("1") for mask in range(1 << ACTIVE_MASK_DAYS)], dtype=np.int64)


def _window_sums(t: int, unique_days: bool, alias: str = "d") -> str:
    """SELECT expressions summing a day table over the usual windows ending on day ``t``.

    The days with events in the last 14 come as one bit mask rather than three
    ``COUNT(DISTINCT …)``: a distinct count makes PostgreSQL sort every group, a mask lets it
    hash them, and SQLite keeps one distinct set per group instead of three. PostgreSQL ORs the
    bits. SQLite has no OR aggregate: a table with one row per key and day (``unique_days``)
    sums them; otherwise a day can come twice (an end user counted under two accounts) and
    only distinct bits are summed.
    """

    def since(days: int) -> str:
        return f"{alias}.day >= {t - days + 1}"

    active = f"{since(ACTIVE_MASK_DAYS)} AND {alias}.events > 0"
    bit = f"(CAST(1 AS bigint) << ({t} - {alias}.day))"
    if connection.vendor == "postgresql":
        mask = f"BIT_OR(CASE WHEN {active} THEN {bit} ELSE 0 END)"
    elif unique_days:
        mask = f"SUM(CASE WHEN {active} THEN {bit} ELSE 0 END)"
    else:
        mask = f"SUM(DISTINCT CASE WHEN {active} THEN {bit} END)"
    parts = [
        f"SUM(CASE WHEN {alias}.day = {t} THEN {alias}.events ELSE 0 END)",
        f"SUM(CASE WHEN {alias}.day = {t - 1} THEN {alias}.events ELSE 0 END)",
        *(f"SUM(CASE WHEN {since(n)} THEN {alias}.events ELSE 0 END)" for n in (3, 7, 14, 30, 90)),
        f"SUM(CASE WHEN {since(7)} THEN {alias}.seconds ELSE 0 END)",
        f"SUM(CASE WHEN {since(30)} THEN {alias}.seconds ELSE 0 END)",
        mask,
        f"SUM(CASE WHEN {alias}.day < {t - 13} AND {alias}.day >= {t - 89} THEN {alias}.events ELSE 0 END)",
    ]
    return ", ".join(parts)


NO_ACCOUNT = ("", None)  # (status, licences) of an account deleted meanwhile
NO_USERS = (0, 0, 0)  # active users in 7, 14 and 30 days

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


@contextmanager
def _roomy_reads():
    """PostgreSQL: the refresh's large reads group in memory (hashing every key rather than
    sorting on disk with the default ``work_mem``). Nothing is written; SQLite reads as it is,
    outside a transaction (one would take its write lock)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        yield


def _read_windows(
    model, key: str, day_model, workspace_id: int, t: int, unique_days: bool
) -> np.ndarray:
    """One row per dirty row of ``model``: key, dirty, first_seen_ms, the window sums, the
    active-days mask and the baseline events, as floats (NaN for NULL)."""
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    days = q(day_model._meta.db_table)
    # Only names from _meta and integers go into the text.
    sql = (
        f"SELECT u.{key}, u.dirty, u.first_seen_ms, {_window_sums(t, unique_days)} "  # noqa: S608
        f"FROM {table} u LEFT JOIN {days} d ON d.{key} = u.{key} AND d.day >= {t - 89} AND d.day <= {t} "
        # Grouped by the primary key alone: the row's other columns follow from it.
        f"WHERE u.workspace_id = %s AND u.dirty > 0 GROUP BY u.{key}"
    )
    with _roomy_reads(), connection.cursor() as cursor:
        cursor.execute(sql, [workspace_id])
        rows = cursor.fetchall()
    # Every value is an integer below 2**53 or a float: exact as a float.
    return np.array(rows, dtype=float) if rows else np.zeros((0, 3 + len(WINDOW_FIELDS) + 1))


def refresh(workspace: Workspace, now=None) -> tuple[int, int]:
    """Recompute the dirty metrics rows of ``workspace``; return (accounts, end users) written.

    Accounts and end users are independent (different tables, each row written back only if
    still as read). On PostgreSQL, outside a transaction, the end users are refreshed on a
    second connection while this one refreshes the accounts: two server processes, and
    Python's share of one overlapping the other's queries (a nightly rebuild of 100,000
    accounts and 200,000 end users takes a third less on two cores). Inside a transaction
    (tests) a second connection would not see its rows, so they run one after the other.
    """
    tz = zone(workspace.time_zone)
    t = today(tz, now)
    settings, _ = UsageSettings.objects.get_or_create(workspace=workspace)
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        accounts = _refresh_accounts(workspace, settings, t, tz)
        return accounts, _refresh_users(workspace, t, tz)
    with ThreadPoolExecutor(max_workers=1) as pool:
        users = pool.submit(_on_own_connection, _refresh_users, workspace, t, tz)
        accounts = _refresh_accounts(workspace, settings, t, tz)
        return accounts, users.result()


def _on_own_connection(function, *args):
    """Run ``function`` in this thread, on the connection Django opens for it, then close it."""
    try:
        return function(*args)
    finally:
        connection.close()


def _first_days(first_seen_ms, tz) -> np.ndarray:
    """Local day numbers of first-seen instants (NaN where unknown). The zone's offset is
    looked up once per hour, at the first instant of that hour in ``first_seen_ms``."""
    ms = np.asarray(first_seen_ms, dtype=float)
    result = np.full(ms.shape, np.nan)
    known = ~np.isnan(ms)
    if not known.any():
        return result
    instants = ms[known].astype(np.int64)
    hours, first, inverse = np.unique(instants // 3_600_000, return_index=True, return_inverse=True)
    offsets = np.array(
        [offset_spans(tz, instant, instant)[0][1] for instant in instants[first].tolist()],
        dtype=np.int64,
    )
    result[known] = (instants + offsets[inverse.reshape(-1)]) // MS_PER_DAY
    return result


def _common(rows: np.ndarray, t: int, tz) -> dict:
    """Columns shared by accounts and users, from :func:`_read_windows` rows."""
    keys = rows[:, 0].astype(np.int64)
    sums = np.nan_to_num(rows[:, 3:])
    columns = {name: sums[:, i] for i, name in enumerate(WINDOW_FIELDS[:-1])}
    mask = sums[:, len(WINDOW_FIELDS) - 1].astype(np.int64)
    columns["active_days_14d"] = ONES[mask].astype(float)
    week1, week2 = ONES[mask & WEEK1_BITS], ONES[mask >> 7]
    baseline_events = sums[:, len(WINDOW_FIELDS)]
    frequency = metrics.visit_frequency(
        columns["active_days_14d"], week1, week2, columns["events_30d"]
    )
    return {
        "keys": keys.tolist(),
        "dirty": rows[:, 1].astype(np.int64).tolist(),
        "columns": columns,
        "frequency": frequency,
        "first_days": _first_days(rows[:, 2], tz),
        "baseline_events": baseline_events,
    }


def _refresh_accounts(workspace: Workspace, settings: UsageSettings, t: int, tz) -> int:
    rows = _read_windows(AccountUsage, "account_id", AccountDay, workspace.id, t, True)
    if not len(rows):
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
    # Per key (in ``keys`` order): (status, licences), or ("", None) for an account gone.
    found = [info.get(pk, NO_ACCOUNT) for pk in keys]
    statuses = np.array([status for status, _licences in found], dtype=object)
    engagement = np.zeros(len(keys), dtype=int)
    fresh = zip(keys, zip(statuses.tolist(), average.tolist(), strict=True), strict=True)
    peers = _peer_averages(workspace.id, t, tz, dict(fresh))
    for status in set(statuses):
        mask = statuses == status
        engagement[mask] = metrics.engagement(average[mask], peers.get(status, []), trend[mask])

    columns = _window_columns(common)
    active = [users.get(pk, NO_USERS) for pk in keys]
    names = ("active_users_7d", "active_users_14d", "active_users_30d")
    columns.update(zip(names, map(list, zip(*active, strict=True)), strict=True))
    # Only accounts that still exist (as ``info`` holds them) have modules.
    columns["modules_30d"] = [modules.get(pk, []) if pk in info else [] for pk in keys]
    columns["engagement"] = engagement.tolist()
    columns["licence_utilisation"] = [
        round(users_14d / licences, 4) if (licences := _number(licence)) else None
        for (_status, licence), users_14d in zip(found, columns["active_users_14d"], strict=True)
    ]
    return _write(AccountUsage, "account_id", columns, keys, common["dirty"], t)


def _refresh_users(workspace: Workspace, t: int, tz) -> int:
    rows = _read_windows(UserUsage, "end_user_id", UserDay, workspace.id, t, False)
    if not len(rows):
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

    SQLite runs one prepared ``UPDATE`` per row (``executemany``, no round trips).
    PostgreSQL copies every row into a temporary table (``COPY``: see ``tend.lib.pg_copy``)
    and updates from it with one ``UPDATE … FROM`` per batch of keys.
    """
    now = timezone.now()
    if connection.vendor == "postgresql":
        return _write_postgresql(model, key, columns, keys, dirty, t, now)
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    for name, values in columns.items():
        if isinstance(model._meta.get_field(name), models.JSONField):
            columns[name] = [None if v is None else orjson.dumps(v).decode() for v in values]
    names = (*columns, "day", "refreshed_at")
    stamp = model._meta.get_field("refreshed_at").get_db_prep_save(now, connection)
    rows = list(zip(*columns.values(), repeat(t), repeat(stamp), keys, dirty, strict=False))
    assignments = ", ".join(f"{q(n)} = %s" for n in names)
    sql = f"UPDATE {table} SET {assignments}, dirty = 0 WHERE {key} = %s AND dirty = %s"  # noqa: S608
    written = 0
    for start in range(0, len(rows), WRITE_BATCH):
        with derived_data_transaction(), connection.cursor() as cursor:
            cursor.executemany(sql, rows[start : start + WRITE_BATCH])
            written += cursor.rowcount
    return written


REFRESH_ROWS = "usage_refresh_rows"
# PostgreSQL: rows per UPDATE transaction. Each batch holds its rows' locks until it commits.
PG_WRITE_BATCH = 25_000


def _write_postgresql(model, key, columns, keys, dirty, t, now) -> int:
    """:func:`_write` on PostgreSQL; a batch is a range of keys."""
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    fields = [model._meta.get_field(name) for name in columns]
    types = ", ".join(f"{q(f.column)} {f.db_type(connection)}" for f in fields)
    sets = ", ".join(f"{q(f.column)} = r.{q(f.column)}" for f in fields)
    order = np.argsort(np.asarray(keys, dtype=np.int64), kind="stable")
    ranges = [
        (keys[order[start]], keys[order[min(start + PG_WRITE_BATCH, len(keys)) - 1]])
        for start in range(0, len(keys), PG_WRITE_BATCH)
    ]
    integer = models.BigIntegerField()
    written = 0
    with connection.cursor() as cursor:
        # Only quoted names and types from the model's _meta are formatted in.
        cursor.execute(f"DROP TABLE IF EXISTS {REFRESH_ROWS}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {REFRESH_ROWS} "
            f"(row_key bigint PRIMARY KEY, row_dirty bigint, {types})"
        )
        pg_copy.copy_into(
            cursor,
            REFRESH_ROWS,
            [integer, integer, *fields],
            [keys, dirty, *columns.values()],
            names=["row_key", "row_dirty", *(q(f.column) for f in fields)],
        )
        sql = (
            f"UPDATE {table} AS u SET {sets}, day = %s, refreshed_at = %s, dirty = 0 "  # noqa: S608
            f"FROM {REFRESH_ROWS} AS r WHERE r.row_key BETWEEN %s AND %s "
            # The same range on the table's key: it reads only the batch's rows (by index).
            f"AND u.{key} BETWEEN %s AND %s AND u.{key} = r.row_key AND u.dirty = r.row_dirty"
        )
        for low, high in ranges:
            with derived_data_transaction():
                cursor.execute(sql, [t, now, low, high, low, high])
                written += cursor.rowcount
        # Left behind only by an error: the next write drops it first, or the session ends.
        cursor.execute(f"DROP TABLE {REFRESH_ROWS}")
    return written


def _number(value) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _active_users(workspace_id: int, t: int) -> dict[int, tuple[int, int, int]]:
    """Distinct end users active in 7, 14 and 30 days, per dirty account: each end user's
    last active day in the 30 is found first, so no distinct count is needed (see
    :func:`_window_sums`)."""
    q = connection.ops.quote_name
    usage = q(AccountUsage._meta.db_table)
    days = q(UserDay._meta.db_table)
    sql = (
        "SELECT account_id, "  # noqa: S608
        f"SUM(CASE WHEN last_day >= {t - 6} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN last_day >= {t - 13} THEN 1 ELSE 0 END), COUNT(*) "
        "FROM (SELECT d.account_id, d.end_user_id, MAX(d.day) AS last_day "
        f"FROM {days} d JOIN {usage} u ON u.account_id = d.account_id "
        f"WHERE u.workspace_id = %s AND u.dirty > 0 AND d.day >= {t - 29} AND d.day <= {t} "
        "GROUP BY d.account_id, d.end_user_id) AS users GROUP BY account_id"
    )
    with _roomy_reads(), connection.cursor() as cursor:
        cursor.execute(sql, [workspace_id])
        return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in cursor.fetchall()}


def _modules(workspace_id: int, t: int) -> dict[int, list[str]]:
    """The modules used in 30 days, in code point order (as Python sorts), per dirty account.

    One row per account and module, ordered, so no per-account sets or sorts in Python;
    PostgreSQL orders by code point with the "C" collation (SQLite always does).
    """
    q = connection.ops.quote_name
    activity = q(AccountActivityDay._meta.db_table)
    usage = q(AccountUsage._meta.db_table)
    ordered = 'd.module COLLATE "C"' if connection.vendor == "postgresql" else "d.module"
    sql = (
        f"SELECT d.account_id, d.module FROM {activity} d "  # noqa: S608
        f"JOIN {usage} u ON u.account_id = d.account_id "
        # The workspace from the metrics row, not the day's: SQLite then reads the day rows
        # from the unique index alone.
        f"WHERE u.workspace_id = %s AND u.dirty > 0 AND d.day >= {t - 29} AND d.day <= {t} "
        f"AND d.module <> '' GROUP BY d.account_id, d.module ORDER BY d.account_id, {ordered}"
    )
    with _roomy_reads(), connection.cursor() as cursor:
        cursor.execute(sql, [workspace_id])
        rows = cursor.fetchall()
    modules = {}
    for account_id, group in groupby(rows, key=itemgetter(0)):
        modules[account_id] = [module for _, module in group]
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
