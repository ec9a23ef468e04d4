"""What an account (or a tree of accounts) or one end user did: windows, daily activity,
modules, frequency, engagement, licences."""

import datetime
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Q, Sum
from django.db.models.fields.json import KT

from tend.accounts.models import Account, EndUser
from tend.lib.dates import date_of
from tend.usage import metrics
from tend.usage.models import (
    AccountActivityDay,
    AccountDay,
    UsageSettings,
    UserDay,
    UserUsage,
    VisitFrequency,
)
from tend.usage.queries.trees import AccountTree, TreeMember
from tend.usage.queries.windows import (
    DEFAULT_LICENCE_ATTRIBUTE,
    HISTORY_DAYS,
    MAX_MODULES,
    MODULE_DAYS,
    WINDOWS,
    WindowSpec,
    local_today,
)
from tend.workspaces.models import Workspace


@dataclass
class Window:
    key: str
    label: str
    events: int = 0
    seconds: float = 0.0
    active_users: int = 0


@dataclass
class Day:
    day: int
    events: int = 0
    seconds: float = 0.0
    active_users: int = 0

    @property
    def date(self) -> datetime.date:
        return date_of(self.day)


@dataclass
class ModuleUsage:
    module: str
    events: int
    seconds: float


@dataclass
class UsageSummary:
    """Every usage figure of one account, or of an account and its children together."""

    today: int
    accounts: int
    include_children: bool
    first_seen_ms: int | None
    last_seen_ms: int | None
    windows: list[Window]
    daily: list[Day]
    modules: list[ModuleUsage]
    active_days_14d: int
    visit_frequency: str
    engagement: int
    licences: float | None
    licence_utilisation: float | None

    @property
    def as_of(self) -> datetime.date:
        return date_of(self.today)

    def window(self, key: str) -> Window:
        return next(w for w in self.windows if w.key == key)

    @property
    def has_durations(self) -> bool:
        return any(d.seconds for d in self.daily)

    @property
    def visit_frequency_label(self) -> str:
        return VisitFrequency(self.visit_frequency).label


def _window_bounds(t: int) -> list[tuple[WindowSpec, int, int]]:
    return [(spec, t - spec.oldest, t - spec.newest) for spec in WINDOWS]


def daily_activity(workspace: Workspace, ids: list[int], t: int, days: int = HISTORY_DAYS):
    """Events, seconds and distinct active end users per local day, oldest first (two queries)."""
    first = t - days + 1
    series = {d: Day(d) for d in range(first, t + 1)}
    for day, events, seconds in (
        AccountDay.objects.filter(
            workspace=workspace, account_id__in=ids, day__gte=first, day__lte=t
        )
        .values("day")
        .annotate(events=Sum("events"), seconds=Sum("seconds"))
        .values_list("day", "events", "seconds")
    ):
        series[day].events = int(events or 0)
        series[day].seconds = float(seconds or 0)
    for day, users in (
        UserDay.objects.filter(workspace=workspace, account_id__in=ids, day__gte=first, day__lte=t)
        .values("day")
        .annotate(users=Count("end_user_id", distinct=True))
        .values_list("day", "users")
    ):
        series[day].active_users = int(users)
    return list(series.values())


def active_users_by_window(workspace: Workspace, ids: list[int], t: int) -> dict[str, int]:
    """Distinct end users active in each window (one query)."""
    counts = {
        spec.key: Count("end_user_id", filter=Q(day__gte=low, day__lte=high), distinct=True)
        for spec, low, high in _window_bounds(t)
    }
    return UserDay.objects.filter(
        workspace=workspace, account_id__in=ids, day__gte=t - HISTORY_DAYS + 1, day__lte=t
    ).aggregate(**counts)


def module_usage(
    workspace: Workspace, ids: list[int], t: int, days: int = MODULE_DAYS
) -> list[ModuleUsage]:
    """Events and time per module over ``days``, busiest first (events without a module
    appear under the empty name)."""
    rows = (
        AccountActivityDay.objects.filter(
            workspace=workspace, account_id__in=ids, day__gte=t - days + 1, day__lte=t
        )
        .values("module")
        .annotate(events=Sum("events"), seconds=Sum("seconds"))
        .order_by("-events", "module")[:MAX_MODULES]
    )
    return [ModuleUsage(r["module"], int(r["events"]), float(r["seconds"] or 0)) for r in rows]


def _windows_from(daily: list[Day], users: dict[str, int], t: int) -> list[Window]:
    windows = []
    for spec, low, high in _window_bounds(t):
        days = [d for d in daily if low <= d.day <= high]
        windows.append(
            Window(
                spec.key,
                spec.label,
                events=sum(d.events for d in days),
                seconds=sum(d.seconds for d in days),
                active_users=int(users.get(spec.key) or 0),
            )
        )
    return windows


def frequency_of(daily: list[Day], t: int) -> tuple[str, int]:
    """Visit frequency (``metrics.visit_frequency``) and active days in 14, from a daily series."""
    active = {d.day for d in daily if d.events > 0}
    days_14 = sum(1 for d in active if d > t - 14)
    week1 = sum(1 for d in active if d > t - 7)
    week2 = days_14 - week1
    events_30 = sum(d.events for d in daily if d.day > t - 30)
    frequency = metrics.visit_frequency([days_14], [week1], [week2], [events_30])[0]
    return str(frequency), days_14


def _engagement(members: list[TreeMember]) -> int:
    """An account's own score; for a tree, its accounts' scores weighted by their events in
    the last 14 days (the busiest children count most; a tree with no recent events is 0)."""
    if len(members) == 1:
        return int(members[0].engagement or 0)
    weights = np.array([m.events_14d or 0 for m in members], dtype=float)
    scores = np.array([m.engagement or 0 for m in members], dtype=float)
    if weights.sum() == 0:
        return 0
    return int(np.rint((weights * scores).sum() / weights.sum()))


def licence_attribute(workspace: Workspace) -> str:
    value = (
        UsageSettings.objects.filter(workspace=workspace)
        .values_list("licence_attribute", flat=True)
        .first()
    )
    return value or DEFAULT_LICENCE_ATTRIBUTE


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def licences_of(workspace: Workspace, account: Account, ids: list[int]) -> float | None:
    """The licences paid for across ``ids``, from the workspace's licence attribute; None
    when no account of them has a positive value."""
    key = licence_attribute(workspace)
    if ids == [account.pk]:
        return _number((account.attributes or {}).get(key))
    values = Account.objects.filter(workspace=workspace, pk__in=ids).annotate(
        licences=KT(f"attributes__{key}")
    )
    numbers = [n for n in (_number(v) for v in values.values_list("licences", flat=True)) if n]
    return sum(numbers) if numbers else None


def usage_summary(
    workspace: Workspace,
    account: Account,
    tree: AccountTree,
    *,
    include_children: bool = False,
    now: datetime.datetime | None = None,
) -> UsageSummary:
    """Every figure of the profile's usage panel and ``GET /accounts/{id}/usage``.

    Steps: the 90-day daily series (events, seconds, daily active users) from the rollups;
    windows summed from it; distinct active users per window (a user active on several
    days or accounts counts once); frequency from the series' active days; engagement from
    the metrics rows; licences from the licence attribute; modules over 30 days.
    """
    t = local_today(workspace, now)
    members = tree.scope(include_children)
    ids = [m.id for m in members]
    daily = daily_activity(workspace, ids, t)
    windows = _windows_from(daily, active_users_by_window(workspace, ids, t), t)
    frequency, active_days = frequency_of(daily, t)
    firsts = [m.first_seen_ms for m in members if m.first_seen_ms is not None]
    lasts = [m.last_seen_ms for m in members if m.last_seen_ms is not None]
    licences = licences_of(workspace, account, ids)
    active_14 = next(w.active_users for w in windows if w.key == "14d")
    return UsageSummary(
        today=t,
        accounts=len(ids),
        include_children=include_children,
        first_seen_ms=min(firsts) if firsts else None,
        last_seen_ms=max(lasts) if lasts else None,
        windows=windows,
        daily=daily,
        modules=module_usage(workspace, ids, t),
        active_days_14d=active_days,
        visit_frequency=frequency,
        engagement=_engagement(members),
        licences=licences,
        licence_utilisation=round(active_14 / licences, 4) if licences else None,
    )


@dataclass
class UserSummary:
    today: int
    first_seen_ms: int | None
    last_seen_ms: int | None
    windows: list[Window]
    active_days_14d: int
    visit_frequency: str

    @property
    def as_of(self) -> datetime.date:
        return date_of(self.today)


def user_summary(
    workspace: Workspace, end_user: EndUser, now: datetime.datetime | None = None
) -> UserSummary:
    """An end user's windows (across every account they used), seen times and frequency."""
    t = local_today(workspace, now)
    first = t - HISTORY_DAYS + 1
    series = {d: Day(d) for d in range(first, t + 1)}
    for day, events, seconds in (
        UserDay.objects.filter(workspace=workspace, end_user=end_user, day__gte=first, day__lte=t)
        .values("day")
        .annotate(events=Sum("events"), seconds=Sum("seconds"))
        .values_list("day", "events", "seconds")
    ):
        series[day].events, series[day].seconds = int(events), float(seconds or 0)
    daily = list(series.values())
    windows = _windows_from(daily, {}, t)
    for window in windows:
        window.active_users = 1 if window.events else 0
    frequency, active_days = frequency_of(daily, t)
    seen = UserUsage.objects.filter(end_user=end_user).values_list(
        "first_seen_ms", "last_seen_ms"
    ).first() or (None, None)
    return UserSummary(t, seen[0], seen[1], windows, active_days, frequency)
