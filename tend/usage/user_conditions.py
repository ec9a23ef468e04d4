"""Usage fields for conditions and searches on end users: ``usage.<metric>`` read from the
user's own metrics row (``UserUsage``: the user's events across every account they used),
registered with ``tend.accounts.user_conditions`` by :func:`register`.

The row is reached through a LEFT JOIN (``usage__…``), so a user with no usage yet compares
as missing on every usage field, as accounts do.
"""

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import IntegerField

from tend.accounts.user_conditions import add_user_field_provider
from tend.lib.conditions import FieldSpec, FieldType, Storage
from tend.usage.models import UserUsage, VisitFrequency

# metric → (label, description)
NUMBERS = {
    "events_today": ("Events today", "The user's events so far today (the workspace's day)"),
    "events_yesterday": ("Events yesterday", "The user's events during yesterday"),
    "events_3d": ("Events, 3 days", "The user's events in the last 3 days, today included"),
    "events_7d": ("Events, 7 days", "The user's events in the last 7 days, today included"),
    "events_14d": ("Events, 14 days", "The user's events in the last 14 days, today included"),
    "events_30d": ("Events, 30 days", "The user's events in the last 30 days, today included"),
    "events_90d": ("Events, 90 days", "The user's events in the last 90 days, today included"),
    "seconds_7d": ("Time in product, 7 days", "Seconds of use in the last 7 days"),
    "seconds_30d": ("Time in product, 30 days", "Seconds of use in the last 30 days"),
    "active_days_14d": ("Active days, 14 days", "Days with any event among the last 14"),
}
GROUP = "Usage"


def _with_usage(queryset):
    return queryset.select_related("usage")


def _metric(name: str):
    def get(user):
        try:
            usage = user.usage
        except ObjectDoesNotExist:
            return None
        return getattr(usage, name)

    return get


def user_usage_fields(workspace) -> list[FieldSpec]:
    fields = [
        FieldSpec(
            f"usage.{name}",
            FieldType.NUMBER,
            label,
            lookup=f"usage__{name}",
            integer=isinstance(UserUsage._meta.get_field(name), IntegerField),
            get=_metric(name),
            prepare=_with_usage,
            group=GROUP,
            description=description,
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
            description="When the user's latest event happened",
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
            description="When the user's first event happened",
        ),
    ]
    return fields


def register() -> None:
    add_user_field_provider("usage", user_usage_fields)
