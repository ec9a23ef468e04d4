"""Usage from files (Data → Imports): day totals per account, end user, activity and module
(:func:`import_usage_days`) and custom metric values (:func:`import_metric_values`).

Both take items of text as a file has them (the data hub maps the columns and calls these
in the transaction that also moves its resume point, so a chunk's rows are written exactly
once) and answer one entry per item: ``status`` created, updated, unchanged or error, with
``errors`` (field and message) or ``shown`` (the values as stored, for the preview).

A usage row's value **replaces** what earlier imports said for the same account, end user,
day, activity and module (see :class:`~tend.usage.models.ImportedDay`): the day tables get
the difference, so importing a file twice counts it once, and a corrected export corrects
the totals. Events counted from the event log add up with imported ones. Accounts and end
users are never created here: a row naming an unknown one is refused.
"""

import datetime
import functools
import math
from collections import defaultdict

import orjson
from django.db import connection
from django.utils import timezone

from tend.accounts.bulk.sql import select_by_keys, upsert, variables_per_statement
from tend.accounts.models import Account, EndUser
from tend.lib.changes import announce
from tend.lib.dates import EPOCH, day_number, to_ms, today, zone
from tend.usage.actions.metrics import ensure_metrics, keep_latest_values
from tend.usage.models import (
    AccountActivityDay,
    AccountDay,
    AccountUsage,
    ImportedDay,
    MetricValue,
    UserDay,
    UserUsage,
)
from tend.usage.rollups import request_rollup
from tend.workspaces.access import WRITE, Actor

MAX_TEXT = 200
MAX_KEY = 255
MAX_METRIC_KEY = 100
# Dates from 1900 to 2199: a year outside that is a typo, not usage.
FIRST_DAY, LAST_DAY = day_number(datetime.date(1900, 1, 1)), day_number(datetime.date(2199, 12, 31))
MAX_EVENTS = 2**31 - 1


@functools.lru_cache(maxsize=4096)
def parse_day(text) -> int | None:
    """A date as a warehouse writes it: ``2026-11-30`` (ISO), or an ISO date and time (the
    date part counts). None when it is not one."""
    text = (text or "").strip()
    if len(text) > 10 and text[10] in "T ":
        text = text[:10]
    try:
        date = datetime.date.fromisoformat(text)
    except ValueError:
        return None
    day = (date - EPOCH).days
    return day if FIRST_DAY <= day <= LAST_DAY else None


@functools.lru_cache(maxsize=4096)
def day_key(text) -> str:
    """A date cell as it keys a row (``2026-11-30`` and ``2026-11-30T00:00:00`` are one day);
    the text itself when it is not a date (the row is refused anyway)."""
    day = parse_day(text)
    return (
        (EPOCH + datetime.timedelta(days=day)).isoformat()
        if day is not None
        else (text or "").strip()
    )


def _number(text, *, integer: bool) -> float | int | None:
    text = (text or "").strip()
    if "_" in text:  # float() takes 1_000; a file means something else by it
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    if integer:
        if not value.is_integer() or value > MAX_EVENTS:
            return None
        return int(value)
    return value


def _error(field: str, message: str) -> dict:
    return {"status": "error", "errors": [{"field": field, "message": message}]}


def _text(item: dict, field: str) -> str:
    value = item.get(field)
    return value.strip() if isinstance(value, str) else ""


def _check_key(item: dict, field: str, errors: list, *, required: bool) -> str:
    value = _text(item, field)
    if not value and required:
        errors.append({"field": field, "message": "is required"})
    elif len(value) > MAX_KEY:
        errors.append({"field": field, "message": f"is longer than {MAX_KEY} characters"})
    return value


# --- usage days ---------------------------------------------------------------------------------


def import_usage_days(actor: Actor, items: list[dict], *, source: str = "") -> list[dict]:
    """Store day totals: each item has ``account_external_id``, ``date``, ``activity`` and
    ``count`` (events), and optionally ``user_external_id``, ``module`` and ``seconds``
    (time spent). Call inside a transaction (the hub's chunk); see the module docstring."""
    actor.require(WRITE)
    workspace = actor.workspace
    entries: list[dict | None] = [None] * len(items)
    rows = []  # (index, account key, user key, day, activity, module, events, seconds)
    for index, item in enumerate(items):
        errors: list[dict] = []
        account = _check_key(item, "account_external_id", errors, required=True)
        user = _check_key(item, "user_external_id", errors, required=False)
        raw_date = _text(item, "date")
        day = parse_day(raw_date)
        if day is None:
            message = (
                "is required"
                if not raw_date
                else f"{raw_date!r} is not a date (expected YYYY-MM-DD)"
            )
            errors.append({"field": "date", "message": message})
        activity = _text(item, "activity")
        if not activity:
            errors.append({"field": "activity", "message": "is required"})
        elif len(activity) > MAX_TEXT:
            errors.append({"field": "activity", "message": f"is longer than {MAX_TEXT} characters"})
        module = _text(item, "module")
        if len(module) > MAX_TEXT:
            errors.append({"field": "module", "message": f"is longer than {MAX_TEXT} characters"})
        raw_count = _text(item, "count")
        events = _number(raw_count, integer=True)
        if events is None:
            message = (
                "is required"
                if not raw_count
                else f"{raw_count!r} is not a whole number of events (0 or more)"
            )
            errors.append({"field": "count", "message": message})
        raw_seconds = _text(item, "seconds")
        seconds = _number(raw_seconds, integer=False) if raw_seconds else 0.0
        if seconds is None:
            errors.append(
                {
                    "field": "seconds",
                    "message": f"{raw_seconds!r} is not a number of seconds (0 or more)",
                }
            )
        if errors:
            entries[index] = {"status": "error", "errors": errors}
            continue
        rows.append((index, account, user, day, activity, module, events, float(seconds)))

    accounts = {
        k: r[1]
        for k, r in select_by_keys(
            Account, workspace.id, {r[1] for r in rows}, ("external_id", "id")
        ).items()
    }
    user_keys = {r[2] for r in rows if r[2]}
    users = (
        select_by_keys(EndUser, workspace.id, user_keys, ("external_id", "id", "account_id"))
        if user_keys
        else {}
    )
    account_keys = {}
    if users:
        owners = {r[2] for r in users.values()} - set(accounts.values())
        if owners:
            account_keys = dict(
                Account.objects.filter(workspace=workspace, pk__in=owners).values_list(
                    "pk", "external_id"
                )
            )
    ids_to_keys = {v: k for k, v in accounts.items()} | account_keys
    resolved = {}  # key → (index, account_id, end_user_id, day, activity, module, events, seconds)
    for index, account, user, day, activity, module, events, seconds in rows:
        account_id = accounts.get(account)
        if account_id is None:
            entries[index] = _error(
                "account_external_id", f"no account with external id {account!r}"
            )
            continue
        end_user_id = 0
        if user:
            found = users.get(user)
            if found is None:
                entries[index] = _error(
                    "user_external_id", f"no end user with external id {user!r}"
                )
                continue
            if found[2] != account_id:
                entries[index] = _error(
                    "user_external_id",
                    f"end user {user!r} belongs to account {ids_to_keys.get(found[2], found[2])!r}, not {account!r}",
                )
                continue
            end_user_id = found[1]
        key = (account_id, end_user_id, day, activity, module)
        if key in resolved:
            entries[index] = _error(
                "date",
                f"repeats item {resolved[key][0] + 1} (same account, end user, day, activity and module)",
            )
            continue
        resolved[key] = (index, events, seconds)

    before = _stored_days(list(resolved))
    now = timezone.now()
    tz = zone(workspace.time_zone)
    stored = []
    account_deltas, activity_deltas, user_deltas = (defaultdict(lambda: [0, 0.0]) for _ in range(3))
    seen_accounts: dict[int, list[int]] = {}
    seen_users: dict[int, list[int]] = {}
    for key, (index, events, seconds) in resolved.items():
        account_id, end_user_id, day, activity, module = key
        old = before.get(key)
        if old is None:
            status = "created"
        elif old == (events, seconds):
            status = "unchanged"
        else:
            status = "updated"
        entries[index] = {
            "status": status,
            "shown": {
                "date": (EPOCH + datetime.timedelta(days=day)).isoformat(),
                "count": str(events),
            },
        }
        if status == "unchanged":
            continue
        stored.append(
            (
                workspace.id,
                account_id,
                end_user_id,
                day,
                activity,
                module,
                events,
                seconds,
                source[:40],
                now,
            )
        )
        delta_events = events - (old[0] if old else 0)
        delta_seconds = seconds - (old[1] if old else 0.0)
        account_deltas[(account_id, day)][0] += delta_events
        account_deltas[(account_id, day)][1] += delta_seconds
        totals = activity_deltas[(account_id, day, activity, module)]
        totals[0] += delta_events
        totals[1] += delta_seconds
        if end_user_id:
            user_deltas[(account_id, end_user_id, day)][0] += delta_events
            user_deltas[(account_id, end_user_id, day)][1] += delta_seconds
        if events > 0:
            _widen(seen_accounts, account_id, day)
            if end_user_id:
                _widen(seen_users, end_user_id, day)
        else:
            seen_accounts.setdefault(account_id, [])
            if end_user_id:
                seen_users.setdefault(end_user_id, [])
    if not stored:
        return entries
    stored.sort()
    upsert(
        ImportedDay,
        (
            "workspace_id",
            "account_id",
            "end_user_id",
            "day",
            "activity",
            "module",
            "events",
            "seconds",
            "source",
            "updated_at",
        ),
        stored,
        ["account", "end_user_id", "day", "activity", "module"],
        ["events", "seconds", "source", "updated_at"],
    )
    ws = workspace.id
    _add(
        AccountDay,
        ("workspace_id", "account_id", "day"),
        ["account", "day"],
        [(ws, *k, *v) for k, v in sorted(account_deltas.items())],
    )
    _add(
        AccountActivityDay,
        ("workspace_id", "account_id", "day", "activity", "module"),
        ["account", "day", "activity", "module"],
        [(ws, *k, *v) for k, v in sorted(activity_deltas.items())],
    )
    _add(
        UserDay,
        ("workspace_id", "account_id", "end_user_id", "day"),
        ["account", "day", "end_user"],
        [(ws, *k, *v) for k, v in sorted(user_deltas.items())],
    )
    _seen(AccountUsage, "account_id", ws, seen_accounts, tz)
    _seen(UserUsage, "end_user_id", ws, seen_users, tz)
    request_rollup()
    announce(ws)
    return entries


def _widen(seen: dict[int, list[int]], key: int, day: int) -> None:
    span = seen.get(key)
    if not span:
        seen[key] = [day, day]
    else:
        span[0], span[1] = min(span[0], day), max(span[1], day)


def _stored_days(keys: list[tuple]) -> dict[tuple, tuple[int, float]]:
    """What earlier imports stored for these keys: key → (events, seconds)."""
    found = _stored(
        ImportedDay,
        ("account_id", "end_user_id", "day", "activity", "module"),
        ("events", "seconds"),
        keys,
    )
    return {key: (events, float(seconds)) for key, (events, seconds) in found.items()}


def _stored(
    model, key_columns: tuple[str, ...], value_columns: tuple[str, ...], keys: list[tuple]
) -> dict:
    """The stored ``value_columns`` of the rows of ``model`` with these keys (values of
    ``key_columns``, which the model's unique index covers): key → values.

    The keys travel as a ``VALUES`` list joined on that index, a bounded number per statement
    (SQLite), or as one JSON document unpacked by ``json_to_recordset`` with the columns'
    types (PostgreSQL). Values are always bound; only names and types from the models'
    ``_meta`` are formatted in."""
    if not keys:
        return {}
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    names = ", ".join(q(c) for c in key_columns)
    join = " AND ".join(f"t.{q(c)} = k.{q(c)}" for c in key_columns)
    selected = ", ".join(f"t.{q(c)}" for c in (*key_columns, *value_columns))
    width = len(key_columns)
    marks = "(" + ", ".join(["%s"] * width) + ")"
    found = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One JSON document of keys: binding thousands of placeholders client-side cost
            # the driver more than the server's whole join (as in the accounts' bulk upsert).
            types = ", ".join(
                f"{q(c)} {model._meta.get_field(c).db_type(connection)}" for c in key_columns
            )
            document = orjson.dumps(
                [dict(zip(key_columns, key, strict=True)) for key in keys]
            ).decode()
            cursor.execute(
                f"SELECT {selected} FROM json_to_recordset(CAST(%s AS json)) AS k({types}) "  # noqa: S608
                f"JOIN {table} t ON {join}",
                [document],
            )
            for row in cursor.fetchall():
                found[tuple(row[:width])] = tuple(row[width:])
            return found
        per_statement = max(1, min(2_000, variables_per_statement() // width))
        for start in range(0, len(keys), per_statement):
            part = keys[start : start + per_statement]
            cursor.execute(
                f"WITH k({names}) AS (VALUES {', '.join([marks] * len(part))}) "  # noqa: S608
                f"SELECT {selected} FROM k JOIN {table} t ON {join}",
                [value for key in part for value in key],
            )
            for row in cursor.fetchall():
                found[tuple(row[:width])] = tuple(row[width:])
    return found


def _add(model, key_columns: tuple[str, ...], unique: list[str], rows: list[tuple]) -> None:
    """Add (events, seconds) differences to a day table. A difference that lowers the events
    (a corrected export) updates the stored row in place, never below 0: an insert would
    have to carry the negative number, which the column's check refuses on PostgreSQL even
    when the row exists."""
    table = connection.ops.quote_name(model._meta.db_table)
    rising = [r for r in rows if r[-2] >= 0]
    falling = [r for r in rows if r[-2] < 0]
    if rising:
        upsert(
            model,
            (*key_columns, "events", "seconds"),
            rising,
            unique,
            ["events", "seconds"],
            assignments={
                "events": f"{table}.events + excluded.events",
                "seconds": f"{table}.seconds + excluded.seconds",
            },
        )
    if falling:
        columns = [
            connection.ops.quote_name(model._meta.get_field(name).column) for name in key_columns
        ]
        where = " AND ".join(f"{c} = %s" for c in columns)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET events = CASE WHEN events + %s < 0 THEN 0 ELSE events + %s END, "  # noqa: S608
                f"seconds = CASE WHEN seconds + %s < 0 THEN 0 ELSE seconds + %s END WHERE {where}",
                [(r[-2], r[-2], r[-1], r[-1], *r[: len(key_columns)]) for r in falling],
            )


def _seen(model, key: str, workspace_id: int, seen: dict[int, list[int]], tz) -> None:
    """Mark the metrics rows of what changed dirty (the rollup job's refresh recomputes them
    from the day tables), and widen their first and last seen to the imported days: the
    start of the first day and the start of the last (a day total has no time of day)."""
    if not seen:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    starts: dict[int, int] = {}

    def start_of(day: int) -> int:
        if day not in starts:
            date = EPOCH + datetime.timedelta(days=day)
            starts[day] = to_ms(datetime.datetime.combine(date, datetime.time(0), tzinfo=tz))
        return starts[day]

    rows = [
        (
            owner,
            workspace_id,
            start_of(span[0]) if span else None,
            start_of(span[1]) if span else None,
            1,
        )
        for owner, span in sorted(seen.items())
    ]
    earliest = (
        f"CASE WHEN excluded.first_seen_ms IS NULL THEN {table}.first_seen_ms "
        f"WHEN {table}.first_seen_ms IS NULL OR excluded.first_seen_ms < {table}.first_seen_ms "
        f"THEN excluded.first_seen_ms ELSE {table}.first_seen_ms END"
    )
    latest = (
        f"CASE WHEN excluded.last_seen_ms IS NULL THEN {table}.last_seen_ms "
        f"WHEN {table}.last_seen_ms IS NULL OR excluded.last_seen_ms > {table}.last_seen_ms "
        f"THEN excluded.last_seen_ms ELSE {table}.last_seen_ms END"
    )
    upsert(
        model,
        (key, "workspace_id", "first_seen_ms", "last_seen_ms", "dirty"),
        rows,
        [key],
        ["first_seen_ms", "last_seen_ms", "dirty"],
        assignments={
            "first_seen_ms": earliest,
            "last_seen_ms": latest,
            "dirty": f"{table}.dirty + 1",
        },
    )


# --- custom metric values -----------------------------------------------------------------------


def import_metric_values(actor: Actor, items: list[dict], *, source: str = "") -> list[dict]:
    """Store custom metric values: each item has ``account_external_id``, ``metric`` (its
    key; a metric met for the first time is created, as through the API), ``date`` and
    ``value`` (a number). A value replaces the account's value of the metric for that day,
    and the account's latest value follows (``MetricLatest``). Call inside a transaction."""
    actor.require(WRITE)
    workspace = actor.workspace
    entries: list[dict | None] = [None] * len(items)
    rows = []
    for index, item in enumerate(items):
        errors: list[dict] = []
        account = _check_key(item, "account_external_id", errors, required=True)
        metric = _text(item, "metric")
        if not metric:
            errors.append({"field": "metric", "message": "is required"})
        elif len(metric) > MAX_METRIC_KEY:
            errors.append(
                {"field": "metric", "message": f"is longer than {MAX_METRIC_KEY} characters"}
            )
        raw_date = _text(item, "date")
        day = parse_day(raw_date)
        if day is None:
            message = (
                "is required"
                if not raw_date
                else f"{raw_date!r} is not a date (expected YYYY-MM-DD)"
            )
            errors.append({"field": "date", "message": message})
        raw_value = _text(item, "value")
        value = None
        if not raw_value:
            errors.append({"field": "value", "message": "is required"})
        elif "_" not in raw_value:
            try:
                value = float(raw_value)
            except ValueError:
                value = None
            if value is not None and not math.isfinite(value):
                value = None
        if raw_value and value is None:
            errors.append({"field": "value", "message": f"{raw_value!r} is not a number"})
        if errors:
            entries[index] = {"status": "error", "errors": errors}
            continue
        rows.append((index, account, metric, day, value))
    accounts = {
        k: r[1]
        for k, r in select_by_keys(
            Account, workspace.id, {r[1] for r in rows}, ("external_id", "id")
        ).items()
    }
    known = [r for r in rows if r[1] in accounts]
    for index, account, *_ in rows:
        if account not in accounts:
            entries[index] = _error(
                "account_external_id", f"no account with external id {account!r}"
            )
    metrics = ensure_metrics(workspace, {r[2] for r in known}) if known else {}
    resolved: dict[tuple[int, int, int], tuple[int, float]] = {}
    for index, account, metric, day, value in known:
        key = (accounts[account], metrics[metric].pk, day)
        if key in resolved:
            entries[index] = _error(
                "date", f"repeats item {resolved[key][0] + 1} (same account, metric and day)"
            )
            continue
        resolved[key] = (index, value)
    before = {
        key: values[0]
        for key, values in _stored(
            MetricValue, ("account_id", "metric_id", "day"), ("value",), list(resolved)
        ).items()
    }
    now = timezone.now()
    changed = []
    for key, (index, value) in resolved.items():
        old = before.get(key)
        status = "created" if old is None else "unchanged" if old == value else "updated"
        entries[index] = {
            "status": status,
            "shown": {"date": (EPOCH + datetime.timedelta(days=key[2])).isoformat()},
        }
        if status != "unchanged":
            changed.append((workspace.id, *key, value, now))
    if not changed:
        return entries
    changed.sort()
    upsert(
        MetricValue,
        ("workspace_id", "account_id", "metric_id", "day", "value", "updated_at"),
        changed,
        ["account", "metric", "day"],
        ["value", "updated_at"],
    )
    keep_latest_values(
        workspace.id, today(zone(workspace.time_zone), now), [row[1:5] for row in changed]
    )
    announce(workspace.id)
    return entries
