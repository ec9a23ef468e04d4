"""Usage fields for conditions on accounts, registered with ``tend.accounts.conditions`` by
``extensions.register``:

* ``usage.<metric>`` read from the account's metrics row (``AccountUsage``). The row is
  reached through a LEFT JOIN (``usage__…``), so an account that has no usage row yet
  compares as missing on every usage field: ``usage.events_7d lt 5`` is false for it,
  ``usage.events_7d is_not_set`` true. The windowed metrics (events, seconds, active days,
  active users) take change filters: their value at the end of a past local day is the
  rollups aggregated over the window ending that day (:mod:`tend.usage.past.relations`).
* ``metrics.<key>`` for each custom metric: the latest value sent for a day up to today
  (a later day's value, sent ahead of time, counts from that day). It takes change filters
  too, against the latest value up to the day N days ago.
"""

from django.db.models import IntegerField, Q

from tend.accounts.columns import add_column_source
from tend.accounts.conditions import add_field_provider
from tend.lib.conditions import FieldSpec, FieldType, Storage
from tend.lib.dates import day_number
from tend.lib.json_sql import JSONArrayHasAny
from tend.usage.extensions import usage_of
from tend.usage.models import AccountUsage, Metric, VisitFrequency
from tend.usage.past import WINDOW_METRICS
from tend.usage.past.relations import metric_then, usage_then
from tend.usage.queries.metrics import latest_metric_values

# metric → (label, description)
NUMBERS = {
    "events_today": ("Events today", "Events so far today (the workspace's day)"),
    "events_yesterday": ("Events yesterday", "Events during yesterday"),
    "events_3d": ("Events, 3 days", "Events in the last 3 days, today included"),
    "events_7d": ("Events, 7 days", "Events in the last 7 days, today included"),
    "events_14d": ("Events, 14 days", "Events in the last 14 days, today included"),
    "events_30d": ("Events, 30 days", "Events in the last 30 days, today included"),
    "events_90d": ("Events, 90 days", "Events in the last 90 days, today included"),
    "active_users_7d": ("Active users, 7 days", "End users with an event in the last 7 days"),
    "active_users_14d": ("Active users, 14 days", "End users with an event in the last 14 days"),
    "active_users_30d": ("Active users, 30 days", "End users with an event in the last 30 days"),
    "seconds_7d": ("Time in product, 7 days", "Seconds of use in the last 7 days"),
    "seconds_30d": ("Time in product, 30 days", "Seconds of use in the last 30 days"),
    "active_days_14d": ("Active days, 14 days", "Days with any event among the last 14"),
    "engagement": ("Engagement", "0–100: recent use against peers and the account's baseline"),
    "licence_utilisation": (
        "Licence utilisation",
        "Active users in 14 days ÷ licences (missing when licences are unknown)",
    ),
}
GROUP = "Usage"


def _with_usage(queryset):
    return queryset.select_related("usage")


def _metric(name: str):
    def get(account):
        usage = usage_of(account)
        return None if usage is None else getattr(usage, name)

    return get


def _day(now) -> int:
    """The local day number of ``now`` (conditions get ``now`` in the workspace's zone)."""
    return day_number(now.date())


def _usage_then(workspace_id: int, name: str):
    def past(days: int, now, among):
        return usage_then(workspace_id, now.tzinfo, name, _day(now) - days, among)

    return past


def _holds_modules(values: list[str] | None) -> Q:
    return Q(JSONArrayHasAny("usage__modules_30d", None, values))


def usage_fields(workspace) -> list[FieldSpec]:
    fields = [
        FieldSpec(
            f"usage.{name}",
            FieldType.NUMBER,
            label,
            lookup=f"usage__{name}",
            # Whole-number columns: the compiler keeps Django from truncating "gt 2.5".
            integer=isinstance(AccountUsage._meta.get_field(name), IntegerField),
            get=_metric(name),
            prepare=_with_usage,
            group=GROUP,
            description=description,
            column=("usage", name, None),
            past=_usage_then(workspace.pk, name) if name in WINDOW_METRICS else None,
        )
        for name, (label, description) in NUMBERS.items()
    ]
    fields += [
        FieldSpec(
            "usage.visit_frequency",
            FieldType.ENUM,
            "Visit frequency",
            lookup="usage__visit_frequency",
            options=tuple(VisitFrequency.values),
            get=_metric("visit_frequency"),
            column=("usage", "visit_frequency", None),
            prepare=_with_usage,
            group=GROUP,
            description="daily, weekly, occasionally or inactive (see docs/usage.md)",
        ),
        FieldSpec(
            "usage.last_seen",
            FieldType.DATETIME,
            "Last seen",
            lookup="usage__last_seen_ms",
            storage=Storage.EPOCH_MS,
            get=_metric("last_seen_ms"),
            prepare=_with_usage,
            group=GROUP,
            description="When the account's latest event happened",
        ),
        FieldSpec(
            "usage.first_seen",
            FieldType.DATETIME,
            "First seen",
            lookup="usage__first_seen_ms",
            storage=Storage.EPOCH_MS,
            get=_metric("first_seen_ms"),
            prepare=_with_usage,
            group=GROUP,
            description="When the account's first event happened",
        ),
        FieldSpec(
            "usage.modules",
            FieldType.MULTI_ENUM,
            "Modules used, 30 days",
            holds=_holds_modules,
            get=_metric("modules_30d"),
            column=("usage", "modules_30d", None),
            prepare=_with_usage,
            group=GROUP,
            description="The product modules the account used in the last 30 days",
        ),
    ]
    return fields


def _latest(workspace_id: int, metric_id: int):
    return lambda now: latest_metric_values(workspace_id, metric_id, _day(now))


def _metric_then(workspace_id: int, metric_id: int):
    def past(days: int, now, among):
        today = _day(now)
        return metric_then(workspace_id, metric_id, today, today - days, among)

    return past


def metric_fields(workspace) -> list[FieldSpec]:
    """``metrics.<key>`` for each custom metric of ``workspace``."""
    return [
        FieldSpec(
            f"metrics.{metric.key}",
            FieldType.NUMBER,
            metric.label,
            lookup="latest",
            rows=_latest(workspace.pk, metric.pk),
            rows_key="account_id",
            past=_metric_then(workspace.pk, metric.pk),
            group="Custom metrics",
            description=f"The latest value of {metric.label} sent for a day up to today",
        )
        for metric in Metric.objects.filter(workspace=workspace).order_by("label", "key")
    ]


def register() -> None:
    add_column_source("usage", AccountUsage, "account_id")
    add_field_provider("usage", usage_fields)
    add_field_provider("metrics", metric_fields)
