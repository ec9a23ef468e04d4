"""Reading usage back: what the account profile, the accounts list and the read API show.

Raw events (:class:`UsageEvent`) are read here and nowhere else outside the rollup job
(DESIGN rule 7): :func:`recent_events` is the activity stream and ``GET /events``.
Everything else reads the rollups (``AccountDay``, ``AccountActivityDay``, ``UserDay``) and
the metric rows (``AccountUsage``, ``UserUsage``, ``MetricValue``), so moving events to
another store later touches this one function.

Windows are whole local days in the workspace's time zone ending today (``tend.lib.dates``):
"last 7 days" is today and the six days before it. A parent account can be read *with its
children*: :func:`account_tree` walks ``Account.parent`` down from it (at most
``MAX_DEPTH`` levels, ``MAX_TREE`` accounts) and every figure is then summed over the
subtree, with end users counted once however many of its accounts they used.
"""

import datetime
from dataclasses import dataclass, field

import numpy as np
from django.db import connection
from django.db.models import Count, F, Q, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, Lower, NullIf

from tend.accounts.models import Account, EndUser
from tend.lib.cursor import InvalidCursor, decode_cursor, encode_cursor
from tend.lib.dates import date_of, today, zone
from tend.lib.errors import InvalidInput
from tend.usage import metrics
from tend.usage.models import (
    AccountActivityDay,
    AccountDay,
    AccountUsage,
    Metric,
    MetricValue,
    UsageEvent,
    UsageSettings,
    UserDay,
    UserUsage,
    VisitFrequency,
)
from tend.workspaces.models import Workspace

MAX_DEPTH = 10
MAX_TREE = 10_000
HISTORY_DAYS = 90
MODULE_DAYS = 30
MAX_MODULES = 50
# Trees up to this many accounts read the stream as one index walk per account, merged;
# larger ones (rare) sort the tree's events in the database instead.
MERGE_MAX_ACCOUNTS = 100
DEFAULT_LICENCE_ATTRIBUTE = "licenses"


@dataclass(frozen=True)
class WindowSpec:
    """A time frame: the local days from ``newest`` back to ``oldest`` days before today."""

    key: str
    label: str
    newest: int
    oldest: int


WINDOWS = (
    WindowSpec("today", "Today", 0, 0),
    WindowSpec("yesterday", "Yesterday", 1, 1),
    WindowSpec("3d", "Last 3 days", 0, 2),
    WindowSpec("7d", "Last 7 days", 0, 6),
    WindowSpec("14d", "Last 14 days", 0, 13),
    WindowSpec("30d", "Last 30 days", 0, 29),
    WindowSpec("90d", "Last 90 days", 0, 89),
)


def local_today(workspace: Workspace, now: datetime.datetime | None = None) -> int:
    return today(zone(workspace.time_zone), now)


# --- the accounts read together -----------------------------------------------------------------


@dataclass(frozen=True)
class TreeMember:
    """One account of a tree and what its metrics row says (None: no usage yet)."""

    id: int
    depth: int
    first_seen_ms: int | None
    last_seen_ms: int | None
    engagement: int | None
    events_14d: int | None

    @property
    def has_usage(self) -> bool:
        return self.last_seen_ms is not None


@dataclass
class AccountTree:
    """An account and, when walked, its descendants: the accounts a reading covers."""

    account_id: int
    members: list[TreeMember]
    truncated: bool = False

    @property
    def root(self) -> TreeMember:
        return self.members[0]

    @property
    def has_children(self) -> bool:
        return len(self.members) > 1

    def ids(self, include_children: bool) -> list[int]:
        return [m.id for m in self.members] if include_children else [self.account_id]

    def scope(self, include_children: bool) -> list[TreeMember]:
        return self.members if include_children else [self.root]

    def has_usage(self, include_children: bool) -> bool:
        return any(m.has_usage for m in self.scope(include_children))


def account_tree(account: Account, *, depth: int = MAX_DEPTH) -> AccountTree:
    """The account and its descendants down to ``depth`` levels, with their metrics rows.

    One query: a recursive CTE over ``parent_id`` joined to ``AccountUsage``. The depth
    bound also ends the walk on a cycle (A parent of B parent of A), which only appears
    more than once and is kept at its shallowest depth.
    """
    q = connection.ops.quote_name
    accounts = q(Account._meta.db_table)
    usage = q(AccountUsage._meta.db_table)
    # Only table names from _meta go into the text; values are parameters.
    sql = (
        f"WITH RECURSIVE tree(id, depth) AS ("  # noqa: S608
        f"SELECT id, 0 FROM {accounts} WHERE id = %s AND workspace_id = %s "
        f"UNION SELECT a.id, tree.depth + 1 FROM {accounts} a JOIN tree ON a.parent_id = tree.id "
        f"WHERE tree.depth < %s AND a.workspace_id = %s) "
        f"SELECT tree.id, MIN(tree.depth), u.first_seen_ms, u.last_seen_ms, u.engagement, "
        f"u.events_14d FROM tree LEFT JOIN {usage} u ON u.account_id = tree.id "
        f"GROUP BY tree.id, u.first_seen_ms, u.last_seen_ms, u.engagement, u.events_14d "
        f"ORDER BY MIN(tree.depth), tree.id LIMIT %s"
    )
    ws = account.workspace_id
    with connection.cursor() as cursor:
        cursor.execute(sql, [account.pk, ws, depth, ws, MAX_TREE + 1])
        rows = cursor.fetchall()
    members = [TreeMember(*row) for row in rows[:MAX_TREE]]
    if not members or members[0].id != account.pk:
        # Not reachable for an account fetched through the chokepoint; kept honest anyway.
        members = [TreeMember(account.pk, 0, None, None, None, None)]
    return AccountTree(account.pk, members, truncated=len(rows) > MAX_TREE)


# --- what an account (or a tree) did -----------------------------------------------------------


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


# --- one end user ---------------------------------------------------------------------------


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


# --- the people of an account ---------------------------------------------------------------

USER_SORTS = {
    "last_seen": [F("usage__last_seen_ms").asc(nulls_last=True)],
    "events_30d": [F("usage__events_30d").asc(nulls_last=True)],
    # The name shown: the person's name, else their external id.
    "name": [Lower(Coalesce(NullIf(F("name"), Value("")), F("external_id"))).asc()],
}
DEFAULT_USER_SORT = "-last_seen"


def user_sort(value: str | None) -> str:
    value = value or DEFAULT_USER_SORT
    return value if value.lstrip("-") in USER_SORTS else DEFAULT_USER_SORT


def end_users_by_activity(workspace: Workspace, ids: list[int], sort: str = DEFAULT_USER_SORT):
    """The end users of ``ids`` with their metrics row; never-seen users last either way."""
    sort = user_sort(sort)
    ordering = []
    for expr in USER_SORTS[sort.lstrip("-")]:
        expr = expr.copy()
        if sort.startswith("-"):
            expr.reverse_ordering()
            if expr.nulls_first:
                expr.nulls_first, expr.nulls_last = None, True
        ordering.append(expr)
    direction = "-id" if sort.startswith("-") else "id"
    return (
        EndUser.objects.filter(workspace=workspace, account_id__in=ids)
        .select_related("usage", "account")
        .order_by(*ordering, direction)
    )


def users_for_filter(
    workspace: Workspace, ids: list[int], limit: int = 200, include: int | None = None
) -> list[EndUser]:
    """End users who did something in ``ids``, most recently seen first (the stream's
    filter), and the one with id ``include`` if it is of ``ids`` but not among them."""
    users = list(
        EndUser.objects.filter(
            workspace=workspace, account_id__in=ids, usage__last_seen_ms__isnull=False
        ).order_by("-usage__last_seen_ms", "id")[:limit]
    )
    if include and all(u.pk != include for u in users):
        users.extend(EndUser.objects.filter(workspace=workspace, account_id__in=ids, pk=include))
    return users


def modules_for_filter(workspace: Workspace, ids: list[int], t: int) -> list[str]:
    """Modules used in the last 90 days, by name (the stream's filter)."""
    return list(
        AccountActivityDay.objects.filter(
            workspace=workspace,
            account_id__in=ids,
            day__gte=t - HISTORY_DAYS + 1,
            day__lte=t,
        )
        .exclude(module="")
        .values_list("module", flat=True)
        .distinct()
        .order_by("module")[:100]
    )


# --- custom metrics ---------------------------------------------------------------------------


@dataclass
class MetricSeries:
    metric: Metric
    first_day: int
    last_day: int
    values: dict[int, float] = field(default_factory=dict)

    @property
    def points(self) -> list[tuple[datetime.date, float]]:
        return [(date_of(day), value) for day, value in sorted(self.values.items())]

    @property
    def latest(self) -> float | None:
        return self.values[max(self.values)] if self.values else None

    def dense(self) -> list[float | None]:
        """One value per day of the range, None where nothing was sent."""
        return [self.values.get(day) for day in range(self.first_day, self.last_day + 1)]


def metric_series(
    workspace: Workspace, metric: Metric, ids: list[int], t: int, days: int = HISTORY_DAYS
) -> MetricSeries:
    """A custom metric's daily values over ``days`` ending today, summed over ``ids``."""
    first = t - days + 1
    series = MetricSeries(metric, first, t)
    for day, value in (
        MetricValue.objects.filter(
            workspace=workspace, metric=metric, account_id__in=ids, day__gte=first, day__lte=t
        )
        .values("day")
        .annotate(total=Sum("value"))
        .values_list("day", "total")
    ):
        series.values[day] = float(value)
    return series


def account_metric_series(
    workspace: Workspace, ids: list[int], t: int, limit: int, days: int = HISTORY_DAYS
) -> tuple[list[MetricSeries], int]:
    """The custom metrics with values for ``ids`` in ``days`` (the first ``limit`` by label)
    and how many there are in all: two queries, or one when there are none."""
    first = t - days + 1
    values = MetricValue.objects.filter(
        workspace=workspace, account_id__in=ids, day__gte=first, day__lte=t
    )
    metric_ids = values.values("metric_id").distinct()
    chosen = list(
        Metric.objects.filter(workspace=workspace, pk__in=metric_ids).order_by("label", "key")
    )
    total = len(chosen)
    chosen = chosen[:limit]
    if not chosen:
        return [], 0
    series = {m.pk: MetricSeries(m, first, t) for m in chosen}
    for metric_id, day, value in (
        values.filter(metric_id__in=series)
        .values("metric_id", "day")
        .annotate(total=Sum("value"))
        .values_list("metric_id", "day", "total")
    ):
        series[metric_id].values[day] = float(value)
    return list(series.values()), total


# --- raw events: the activity stream ---------------------------------------------------------


@dataclass
class EventPage:
    events: list[UsageEvent]
    next_cursor: str | None


def _after(cursor: str | None, by_time: bool) -> dict | None:
    if not cursor:
        return None
    try:
        values = decode_cursor(cursor)
    except InvalidCursor as exc:
        raise InvalidInput("cursor", str(exc)) from exc
    keys = ("ts", "id") if by_time else ("id",)
    if set(values) != set(keys) or not all(
        isinstance(values[k], int) and not isinstance(values[k], bool) for k in keys
    ):
        raise InvalidInput("cursor", "cursor is not one this API issued for these filters")
    return values


def recent_events(
    workspace: Workspace,
    *,
    account_ids: list[int] | None = None,
    end_user_id: int | None = None,
    module: str | None = None,
    activity: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> EventPage:
    """Events newest first, ``limit`` at a time, with the cursor of the next page.

    For given accounts the order is event time then id, both descending, which the
    ``(account, ts)`` index serves; the cursor holds the last (ts, id) and the next page
    starts strictly after it. Without accounts there is no index on time alone, so the order
    is arrival (id descending) and the cursor holds the last id. An invalid cursor raises
    :class:`InvalidInput` naming ``cursor``.

    Several accounts (a parent with its children) are read as one newest-first page per
    account from the index, merged (:func:`_merged_ids`): neither database can walk one
    index in time order across several accounts, and sorting every event of a large tree
    for one page would cost as much as the tree has events.
    """
    by_time = account_ids is not None
    after = _after(cursor, by_time)
    events = UsageEvent.objects.filter(workspace=workspace)
    if end_user_id is not None:
        events = events.filter(end_user_id=end_user_id)
    if module is not None:
        events = events.filter(module=module)
    if activity is not None:
        events = events.filter(activity=activity)
    if by_time:
        if after:
            events = events.filter(Q(ts__lt=after["ts"]) | Q(ts=after["ts"], id__lt=after["id"]))
        if 1 < len(account_ids) <= MERGE_MAX_ACCOUNTS:
            ids = _merged_ids(events, account_ids, limit + 1)
            by_id = {
                e.id: e for e in events.filter(id__in=ids).select_related("account", "end_user")
            }
            rows = [by_id[i] for i in ids if i in by_id]
        else:
            events = events.filter(account_id__in=account_ids).order_by("-ts", "-id")
            rows = list(events.select_related("account", "end_user")[: limit + 1])
    else:
        if after:
            events = events.filter(id__lt=after["id"])
        rows = list(events.order_by("-id").select_related("account", "end_user")[: limit + 1])
    if len(rows) <= limit:
        return EventPage(rows, None)
    rows = rows[:limit]
    last = rows[-1]
    values = {"ts": last.ts, "id": last.id} if by_time else {"id": last.id}
    return EventPage(rows, encode_cursor(values))


def _merged_ids(events, account_ids: list[int], limit: int) -> list[int]:
    """The ids of the ``limit`` newest of ``events`` over ``account_ids``, newest first.

    One statement: for each account the newest ``limit`` from the ``(account, ts)`` index,
    then ``UNION ALL`` and the final order. Each branch is the ORM's own SQL for that
    account, wrapped in ``SELECT * FROM (…)`` so that SQLite accepts its ORDER BY and LIMIT.
    """
    branches, params = [], []
    for number, account_id in enumerate(account_ids):
        branch = (
            events.filter(account_id=account_id).order_by("-ts", "-id").values_list("id", "ts")
        )[:limit]
        sql, branch_params = branch.query.get_compiler(using=branch.db).as_sql()
        # The ORM's SQL (values stay parameters) and an integer: nothing from a request.
        branches.append(f"SELECT * FROM ({sql}) AS branch_{number}")  # noqa: S608
        params.extend(branch_params)
    sql = " UNION ALL ".join(branches) + " ORDER BY 2 DESC, 1 DESC LIMIT %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        return [row[0] for row in cursor.fetchall()]
