"""Custom metrics: storing the daily values that arrive through ingestion, and the metrics'
labels."""

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from tend.accounts.bulk.sql import upsert
from tend.accounts.models import Account
from tend.lib.errors import InvalidInput
from tend.usage.actions.intake import IntakeContext, create_accounts, stored_rows
from tend.usage.ingest.facts import MetricFact
from tend.usage.models import Metric, MetricValue
from tend.workspaces.access import WRITE, Actor
from tend.workspaces.models import Workspace

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
    """Upsert one value per account, metric and day (the last one sent for a day wins);
    metrics and accounts met for the first time are created."""
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
