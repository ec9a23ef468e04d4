"""Deleting what usage data outlives: old raw events, dedupe keys, ingestion records, and
rows of accounts or end users deleted while their events were arriving.

Rollups and metrics are kept: they are what the product reads, and they are small. Raw
events are deleted only once counted (at or below the rollup watermark), in batches so each
delete holds SQLite's write lock briefly.

The bulk usage tables have no foreign-key constraints (docs/decisions.md): deleting an
account cascades to them through the ORM, but an event stored by a request that resolved the
account just before it was deleted, and the rollup rows counted from it, would stay behind.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from tend.accounts.models import Account, EndUser
from tend.lib.dates import to_ms
from tend.usage.models import (
    AccountActivityDay,
    AccountDay,
    AccountUsage,
    ImportedDay,
    IngestCount,
    IngestRejection,
    MetricLatest,
    MetricValue,
    ReceivedMessage,
    RollupState,
    UsageEvent,
    UsageSettings,
    UserDay,
    UserUsage,
)
from tend.usage.rollups import STATE

# Message ids are remembered for at least 7 days (the promise); one more for margin.
DEDUPE_DAYS = 8
REJECTIONS_DAYS = 30
COUNTS_DAYS = 400
BATCH = 10_000


def _delete_in_batches(queryset) -> int:
    deleted = 0
    while True:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return deleted
        with transaction.atomic():
            deleted += queryset.model.objects.filter(pk__in=ids).delete()[0]


def prune_usage(now=None) -> dict[str, int]:
    """Apply every retention rule; returns how many rows each deleted."""
    now = now or timezone.now()
    deleted = {"events": 0}
    with scopes_disabled():
        state = RollupState.objects.filter(name=STATE).first()
        counted_up_to = state.last_event_id if state else 0
        for settings in UsageSettings.objects.all():
            cutoff = to_ms(now - timedelta(days=settings.retention_days))
            deleted["events"] += _delete_in_batches(
                UsageEvent.objects.filter(
                    workspace_id=settings.workspace_id, ts__lt=cutoff, id__lte=counted_up_to
                )
            )
        deleted["message_ids"] = _delete_in_batches(
            ReceivedMessage.objects.filter(received_at__lt=to_ms(now - timedelta(days=DEDUPE_DAYS)))
        )
        deleted["rejections"] = _delete_in_batches(
            IngestRejection.objects.filter(received_at__lt=now - timedelta(days=REJECTIONS_DAYS))
        )
        deleted["counts"] = _delete_in_batches(
            IngestCount.objects.filter(hour__lt=now - timedelta(days=COUNTS_DAYS))
        )
        deleted["orphans"] = delete_orphans()
    return deleted


def delete_orphans() -> int:
    """Delete usage rows whose account or end user no longer exists."""
    accounts = Account.objects.values("id")
    users = EndUser.objects.values("id")
    deleted = 0
    for model in (
        UsageEvent,
        AccountDay,
        AccountActivityDay,
        UserDay,
        AccountUsage,
        MetricValue,
        MetricLatest,
        ImportedDay,
    ):
        deleted += _delete_in_batches(model.objects.exclude(account_id__in=accounts))
    for model in (UserDay, UserUsage):
        deleted += _delete_in_batches(model.objects.exclude(end_user_id__in=users))
    deleted += _delete_in_batches(
        ImportedDay.objects.exclude(end_user_id=0).exclude(end_user_id__in=users)
    )
    return deleted
