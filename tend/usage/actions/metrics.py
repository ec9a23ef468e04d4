"""Custom metrics: storing the daily values that arrive through ingestion with each
account's latest value beside them, and the metrics' labels."""

import datetime
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django_scopes import scopes_disabled

from tend.accounts.bulk.sql import upsert
from tend.accounts.models import Account
from tend.lib.dates import today, zone
from tend.lib.errors import InvalidInput
from tend.usage.actions.intake import IntakeContext, create_accounts, stored_rows
from tend.usage.ingest.facts import MetricFact
from tend.usage.models import Metric, MetricLatest, MetricValue
from tend.workspaces.access import WRITE, Actor
from tend.workspaces.models import Workspace

# No workspace's today is later than the date at UTC+14: rows whose next value is due
# anywhere are among those with a next day up to it.
EARLIEST_ZONE = datetime.timezone(datetime.timedelta(hours=14))

MAX_LABEL = 200


@transaction.atomic
def rename_metric(actor: Actor, metric: Metric, label) -> Metric:
    """Give a metric the label people read (it starts as its key, written out)."""
    actor.require(WRITE)
    if not isinstance(label, str) or not label.strip():
        raise InvalidInput("label", "is required")
    if len(label.strip()) > MAX_LABEL:
        raise InvalidInput("label", f"is longer than {MAX_LABEL} characters")
    metric.label = label.strip()
    metric.save(update_fields=["label"])
    return metric


def store_metric_values(context: IntakeContext, facts: list[MetricFact]) -> None:
    """Upsert one value per account, metric and day (the last one sent for a day wins) and
    merge them into the accounts' latest values (:func:`keep_latest_values`); metrics and
    accounts met for the first time are created."""
    if not facts:
        return
    workspace = context.workspace
    accounts = {
        key: row[1]
        for key, row in stored_rows(Account, workspace, {f.account for f in facts}).items()
    }
    missing = {f.account for f in facts} - set(accounts)
    if missing:
        owners = defaultdict(list)
        for fact in facts:
            if fact.account in missing:
                owners[fact.account].append(fact.index)
        if context.settings.create_unknown:
            accounts.update(create_accounts(context, dict.fromkeys(missing), owners))
        else:
            for ext in missing:
                for index in owners[ext]:
                    context.refuse_unknown(index, "account", ext)
    metrics = ensure_metrics(workspace, {f.metric for f in facts})
    now = timezone.now()
    values: dict[tuple[int, int, int], tuple] = {}
    for fact in facts:
        account_id = accounts.get(fact.account)
        if account_id is None:
            continue
        metric_id = metrics[fact.metric].pk
        values[(account_id, metric_id, fact.day)] = (
            workspace.id,
            account_id,
            metric_id,
            fact.day,
            fact.value,
            now,
        )
    # Plain rows through the accounts app's raw upsert: a model instance per value cost more
    # than the database's work (57 µs a value in the demo build).
    upsert(
        MetricValue,
        ("workspace_id", "account_id", "metric_id", "day", "value", "updated_at"),
        sorted(values.values()),
        ["account", "metric", "day"],
        ["value", "updated_at"],
    )
    keep_latest_values(
        workspace.id,
        today(zone(workspace.time_zone), now),
        [
            (account_id, metric_id, day, row[4])
            for (account_id, metric_id, day), row in values.items()
        ],
    )


def keep_latest_values(workspace_id: int, day: int, values) -> None:
    """Merge values just written to the series (``(account_id, metric_id, day, value)``, at
    most one per account, metric and day) into the accounts' ``MetricLatest`` rows, ``day``
    being the workspace's today; see the model for what a row holds.

    Per account and metric, the latest of the values dated up to today replaces the row's
    value if it is as late as the row's day or later (a correction of the latest day
    included; a correction of an older day changes nothing), and the earliest value dated
    after today becomes ``next_day`` if it is sooner. The merge is done by the database
    against the row as stored, so two transactions writing the same account's metric keep
    the later day whatever order they commit in. A row whose ``next_day`` had already come
    stays marked by it (readers fall back to the series) until the rollup job recomputes it.
    """
    merged: dict[tuple[int, int], list] = {}
    for account_id, metric_id, value_day, value in values:
        entry = merged.setdefault((account_id, metric_id), [None, None, None])
        if value_day <= day:
            if entry[0] is None or value_day > entry[0]:
                entry[0], entry[1] = value_day, value
        elif entry[2] is None or value_day < entry[2]:
            entry[2] = value_day
    if not merged:
        return
    table = connection.ops.quote_name(MetricLatest._meta.db_table)
    later = f"excluded.day IS NOT NULL AND ({table}.day IS NULL OR excluded.day >= {table}.day)"
    sooner = (
        f"excluded.next_day IS NOT NULL AND ({table}.next_day IS NULL "
        f"OR excluded.next_day < {table}.next_day)"
    )
    upsert(
        MetricLatest,
        ("workspace_id", "account_id", "metric_id", "day", "value", "next_day"),
        [(workspace_id, *key, *entry) for key, entry in sorted(merged.items())],
        ["account", "metric"],
        ["day", "value", "next_day"],
        assignments={
            "day": f"CASE WHEN {later} THEN excluded.day ELSE {table}.day END",
            "value": f"CASE WHEN {later} THEN excluded.value ELSE {table}.value END",
            "next_day": f"CASE WHEN {sooner} THEN excluded.next_day ELSE {table}.next_day END",
        },
    )


def recompute_latest_values(workspace_id: int, day: int, rows) -> int:
    """Set ``rows`` (a queryset of ``MetricLatest``) from the series as of ``day``: the latest
    value up to it and the earliest day after it. Each row reads its account's series on the
    ``(account, metric, day)`` index. Returns how many rows it set."""
    series = MetricValue.objects.filter(
        workspace_id=workspace_id,
        account_id=OuterRef("account_id"),
        metric_id=OuterRef("metric_id"),
    ).order_by()
    until = series.filter(day__lte=day).order_by("-day")
    return rows.update(
        day=Subquery(until.values("day")[:1]),
        value=Subquery(until.values("value")[:1]),
        next_day=Subquery(series.filter(day__gt=day).order_by("day").values("day")[:1]),
    )


def advance_latest_values(now: datetime.datetime | None = None) -> int:
    """Move the latest rows whose next value's day has come in their workspace's time zone
    (values sent ahead of time become the latest at midnight). Run by the rollup job; until
    it runs, readers get those accounts' values from the series. Returns the rows moved."""
    now = now or timezone.now()
    moved = 0
    with scopes_disabled():
        due = MetricLatest.objects.filter(next_day__lte=today(EARLIEST_ZONE, now))
        workspaces = Workspace.objects.filter(pk__in=due.values("workspace_id").distinct())
        for workspace in workspaces:
            local_today = today(zone(workspace.time_zone), now)
            with transaction.atomic():
                # Lock the rows before reading the series (PostgreSQL): a write of the same
                # account's metric either committed before the lock, and the next statement
                # sees its values, or waits and merges into the row recomputed here.
                rows = MetricLatest.objects.filter(
                    workspace_id=workspace.pk, next_day__lte=local_today
                )
                list(rows.select_for_update().values_list("pk", flat=True))
                moved += recompute_latest_values(workspace.pk, local_today, rows)
    return moved


def metric_label(key: str) -> str:
    """A first label for a metric met for the first time: ``api_calls`` → "Api calls"."""
    if key != key.lower() or " " in key:
        return key
    return key.replace("_", " ").replace("-", " ").strip().capitalize() or key


def ensure_metrics(workspace: Workspace, keys: set[str]) -> dict[str, Metric]:
    """The metrics with these keys, created (labelled after their key) when new."""
    existing = {m.key: m for m in Metric.objects.filter(workspace=workspace, key__in=keys)}
    missing = [
        Metric(workspace=workspace, key=key, label=metric_label(key))
        for key in sorted(keys - set(existing))
    ]
    if missing:
        Metric.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {m.key: m for m in Metric.objects.filter(workspace=workspace, key__in=keys)}
    return existing
