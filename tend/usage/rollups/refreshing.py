"""Rolling metrics forward at midnight and refreshing dirty metric rows (steps 3 and 4 of
``tend.usage.rollups``)."""

from collections import defaultdict
from itertools import repeat

import numpy as np
import orjson
from django.db import connection, models, transaction
from django.db.models import F
from django.db.models.fields.json import KT
from django.utils import timezone

from tend.accounts.models import Account
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
