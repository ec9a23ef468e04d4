"""How usage shows up in the accounts app's pages: four sortable list columns and three
profile panels, registered through ``tend.accounts.extensions`` (accounts may not import
usage); and the ``usage.<metric>`` condition fields (``conditions.py``), registered with
``tend.accounts.conditions``.

The columns read the account's metrics row (``AccountUsage``), joined into the list's one
query by ``prepare``; accounts with no usage yet sort last whichever the direction.
"""

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Case, F, IntegerField, Value, When

from tend.accounts.extensions import ListColumn, ProfilePanel, add_list_column, add_profile_panel
from tend.lib.dates import from_ms
from tend.usage.display import exact_time, frequency_label, relative_time
from tend.usage.models import AccountUsage, VisitFrequency

# Visit frequencies from least to most frequent: the ascending order of the column.
FREQUENCY_RANK = {
    VisitFrequency.INACTIVE: 0,
    VisitFrequency.OCCASIONALLY: 1,
    VisitFrequency.WEEKLY: 2,
    VisitFrequency.DAILY: 3,
}


def usage_of(account) -> AccountUsage | None:
    """The account's metrics row as joined by ``prepare`` (no query), or None."""
    try:
        return account.usage
    except ObjectDoesNotExist:
        return None


def _with_usage(queryset):
    # The workspace comes along for its time zone: the exact time in a tooltip is local.
    return queryset.select_related("usage", "workspace")


def _last_seen(account) -> tuple[str, str]:
    usage = usage_of(account)
    if usage is None or usage.last_seen_ms is None:
        return "", "No usage received yet"
    tz = account.workspace.time_zone
    return relative_time(usage.last_seen_ms, tz), exact_time(usage.last_seen_ms, tz)


def _active_users(account) -> tuple[str, str]:
    usage = usage_of(account)
    if usage is None:
        return "", "No usage received yet"
    return (
        f"{usage.active_users_14d:,}",
        f"End users active in the last 14 days (7 days: {usage.active_users_7d:,}, "
        f"30 days: {usage.active_users_30d:,})",
    )


def _frequency(account) -> tuple[str, str]:
    usage = usage_of(account)
    if usage is None:
        return "", "No usage received yet"
    return frequency_label(usage.visit_frequency), (
        f"Active on {usage.active_days_14d} of the last 14 days"
    )


def _engagement(account) -> tuple[str, str]:
    usage = usage_of(account)
    if usage is None:
        return "", "No usage received yet"
    return str(usage.engagement), (
        "0–100: recent activity against the account's own baseline and its peers"
    )


def _exported(read):
    """A column's export value, read from the account's metrics row; None without one."""

    def value(account):
        usage = usage_of(account)
        return None if usage is None else read(usage)

    return value


def register() -> None:
    """Called from ``UsageConfig.ready``."""
    # Conditions on accounts (segments, plays, health profiles) can test usage.<metric>.
    from tend.usage import conditions

    conditions.register()
    add_list_column(
        ListColumn(
            key="last_seen",
            label="Last seen",
            description="When the account's latest event happened",
            cell=_last_seen,
            export=_exported(lambda u: from_ms(u.last_seen_ms) if u.last_seen_ms else None),
            order=[F("usage__last_seen_ms").asc(nulls_last=True)],
            prepare=_with_usage,
            sort_labels=("Least recently seen", "Recently seen"),
            position=10,
        )
    )
    add_list_column(
        ListColumn(
            key="active_users",
            label="Active users",
            description="End users active in the last 14 days",
            cell=_active_users,
            export=_exported(lambda u: u.active_users_14d),
            order=[F("usage__active_users_14d").asc(nulls_last=True)],
            prepare=_with_usage,
            numeric=True,
            sort_labels=("Fewest active users", "Most active users"),
            position=20,
        )
    )
    add_list_column(
        ListColumn(
            key="visit_frequency",
            label="Frequency",
            description="How often the account uses the product: daily, weekly, occasionally or inactive",
            cell=_frequency,
            export=_exported(lambda u: frequency_label(u.visit_frequency) or None),
            order=[
                Case(
                    *(
                        When(usage__visit_frequency=v, then=Value(r))
                        for v, r in FREQUENCY_RANK.items()
                    ),
                    default=None,
                    output_field=IntegerField(),
                ).asc(nulls_last=True)
            ],
            prepare=_with_usage,
            sort_labels=("Least frequent visits", "Most frequent visits"),
            position=30,
        )
    )
    add_list_column(
        ListColumn(
            key="engagement",
            label="Engagement",
            description="0–100: recent use against peers of the same status and the account's own baseline",
            cell=_engagement,
            export=_exported(lambda u: u.engagement),
            order=[F("usage__engagement").asc(nulls_last=True)],
            prepare=_with_usage,
            numeric=True,
            sort_labels=("Least engaged", "Most engaged"),
            position=40,
        )
    )
    # Imported here: the panels' views import this module (``usage_of``) and accounts' views.
    from tend.usage.views.account_activity import activity_panel
    from tend.usage.views.account_usage import usage_panel
    from tend.usage.views.account_users import users_panel

    add_profile_panel(
        ProfilePanel(
            key="usage",
            template="usage/panel.html",
            context=usage_panel,
            position=10,
        )
    )
    add_profile_panel(
        ProfilePanel(
            key="usage_users",
            template="usage/users_panel.html",
            context=users_panel,
            position=20,
            replaces=("end_users",),  # every end user, with their usage
        )
    )
    add_profile_panel(
        ProfilePanel(
            key="usage_activity",
            template="usage/activity_panel.html",
            context=activity_panel,
            position=30,
        )
    )
