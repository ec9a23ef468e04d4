"""How paying accounts spread over the ranks: day by day over the last days (from snapshots),
and now, broken down by an account attribute or by who holds an assignment role.

Both read a bounded number of queries whatever the number of accounts or days: the trend
two, a breakdown one or two.
"""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Subquery
from django.db.models.fields.json import KeyTransform

from tend.accounts.models import (
    Account,
    AccountStatus,
    Assignment,
    AssignmentRole,
    AttributeDefinition,
    AttributeType,
    ObjectType,
)
from tend.health import sources
from tend.health.models import HealthSnapshot, Rank
from tend.health.queries import POPULATION_POINTS
from tend.lib.dates import date_of
from tend.workspaces.models import Member, Workspace

RANKS = tuple(Rank.values)  # good, average, poor
UNSCORED = "unscored"
TREND_DAYS = 90
# A breakdown shows this many groups; the smallest of the rest are summed as "Other".
MAX_GROUPS = 15
BREAKDOWN_TYPES = (AttributeType.ENUM, AttributeType.TEXT, AttributeType.BOOLEAN)


def population_score(counts: dict[str, int]) -> float | None:
    """100 when every ranked account is Good, 0 when every one is Poor (docs/health.md)."""
    ranked = sum(counts.get(rank, 0) for rank in RANKS)
    if not ranked:
        return None
    return round(sum(POPULATION_POINTS[r] * counts.get(r, 0) for r in RANKS) / ranked, 1)


# --- over time -------------------------------------------------------------------------------


@dataclass
class Trend:
    """Paying accounts by rank on each day, oldest first (today last)."""

    dates: list[datetime.date]
    counts: dict[str, list[int]]  # good / average / poor / unscored → one count per day

    def on(self, days_ago: int) -> dict[str, int] | None:
        """The counts ``days_ago`` days before the last day, or None when that day is out of
        range or no account had a rank yet."""
        index = len(self.dates) - 1 - days_ago
        if index < 0:
            return None
        counts = {rank: self.counts[rank][index] for rank in (*RANKS, UNSCORED)}
        return counts if any(counts[rank] for rank in RANKS) else None

    @property
    def population(self) -> list[float | None]:
        return [
            population_score({rank: self.counts[rank][i] for rank in RANKS})
            for i in range(len(self.dates))
        ]

    @property
    def has_history(self) -> bool:
        return any(self.counts[rank][i] for rank in RANKS for i in range(len(self.dates)))


def trend(workspace: Workspace, days: int = TREND_DAYS, today: int | None = None) -> Trend:
    """Today's paying accounts by rank on each of the last ``days`` local days.

    The state of an account on a day is its latest snapshot on or before that day (snapshots
    are written only when health changes). Steps:

    1. **Before the window**: each account's latest snapshot before the first day (one query,
       the latest found through the ``(account, day)`` index).
    2. **In the window**: every snapshot from the first day to today, by day (one query).
    3. **Replay**: start from the ranks before the window; on each day apply that day's
       snapshots (an account leaves its old rank for its new one) and record the counts.

    Accounts are today's paying accounts (status history is not kept), so the chart shows
    how the customers paying now got where they are.
    """
    today = sources.local_today(workspace) if today is None else today
    first = today - days + 1
    paying = HealthSnapshot.objects.filter(
        workspace=workspace, account__status=AccountStatus.PAYING
    )
    latest_before = (
        HealthSnapshot.objects.filter(account=OuterRef("account_id"), day__lt=first)
        .order_by("-day")
        .values("day")[:1]
    )
    state: dict[int, str] = dict(
        paying.filter(day__lt=first, day=Subquery(latest_before)).values_list("account_id", "rank")
    )
    changes = paying.filter(day__gte=first, day__lte=today).order_by("day", "account_id")
    counts = Counter((rank or UNSCORED) for rank in state.values())
    series: dict[str, list[int]] = {rank: [] for rank in (*RANKS, UNSCORED)}
    pending = iter(changes.values_list("day", "account_id", "rank"))
    change = next(pending, None)
    for day in range(first, today + 1):
        while change is not None and change[0] == day:
            _day, account_id, rank = change
            if account_id in state:
                counts[state[account_id] or UNSCORED] -= 1
            state[account_id] = rank
            counts[rank or UNSCORED] += 1
            change = next(pending, None)
        for rank in series:
            series[rank].append(counts[rank])
    return Trend(dates=[date_of(d) for d in range(first, today + 1)], counts=series)


# --- by attribute or assignment -----------------------------------------------------------------


@dataclass(frozen=True)
class Dimension:
    """Something paying accounts can be grouped by: ``attr:<key>`` or ``role:<id>``."""

    value: str
    label: str
    kind: str  # "attribute" or "role"
    attribute: AttributeDefinition | None = None
    role: AssignmentRole | None = None


@dataclass
class Group:
    label: str
    counts: dict[str, int]
    # The accounts list's parameters that select this group (none for "Other").
    params: dict[str, str] = field(default_factory=dict)
    is_missing: bool = False  # "No value" / "Unassigned"

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def dimensions(workspace: Workspace) -> list[Dimension]:
    """Assignment roles first (Success Manager, …), then the attributes one can group by."""
    found = [
        Dimension(f"role:{role.pk}", role.name, "role", role=role)
        for role in AssignmentRole.objects.filter(workspace=workspace)
    ]
    found += [
        Dimension(f"attr:{d.key}", d.label, "attribute", attribute=d)
        for d in AttributeDefinition.objects.filter(
            workspace=workspace, object_type=ObjectType.ACCOUNT, type__in=BREAKDOWN_TYPES
        ).order_by("position", "label", "id")
    ]
    return found


def _empty() -> dict[str, int]:
    return {rank: 0 for rank in (*RANKS, UNSCORED)}


def breakdown(workspace: Workspace, dimension: Dimension) -> list[Group]:
    """Paying accounts by rank in each group of ``dimension``, in a natural order: a list's
    options in their order, members by name, other values largest first; the accounts with
    no value (or nobody in the role) last."""
    paying = Account.objects.filter(workspace=workspace, status=AccountStatus.PAYING)
    if dimension.kind == "role":
        groups = _by_role(workspace, paying, dimension.role)
    else:
        groups = _by_attribute(paying, dimension.attribute)
    return _bounded(groups)


def _by_role(workspace: Workspace, paying, role: AssignmentRole) -> list[Group]:
    holder = Assignment.objects.filter(account=OuterRef("pk"), role=role).values("member_id")[:1]
    rows = (
        paying.annotate(holder=Subquery(holder))
        .values("holder", "health__rank")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[int | None, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["holder"], _empty())[row["health__rank"] or UNSCORED] += row["n"]
    members = {
        m.pk: m
        for m in Member.objects.filter(
            workspace=workspace, pk__in=[k for k in counts if k is not None]
        ).select_related("user")
    }
    groups = [
        Group(
            members[pk].name if pk in members else f"Member {pk}",
            ranks,
            {"owner": str(pk), "role": str(role.pk)},
        )
        for pk, ranks in counts.items()
        if pk is not None
    ]
    groups.sort(key=lambda g: g.label.lower())
    if None in counts:
        groups.append(
            Group("Unassigned", counts[None], {"owner": "none", "role": str(role.pk)}, True)
        )
    return groups


def _plain(value):
    """A JSON value as read back: booleans stay booleans, text stays text, others as text."""
    if value is None or isinstance(value, bool | str):
        return value
    return str(value)


def _by_attribute(paying, definition: AttributeDefinition) -> list[Group]:
    key = definition.key
    rows = (
        paying.annotate(value=KeyTransform(key, "attributes"))
        .values("value", "health__rank")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[object, dict[str, int]] = {}
    for row in rows:
        value = _plain(row["value"])
        if definition.type == AttributeType.BOOLEAN and not isinstance(value, bool | None):
            value = None  # not a yes/no: counted with the accounts without a value
        counts.setdefault(value, _empty())
        counts[value][row["health__rank"] or UNSCORED] += row["n"]

    def label(value) -> str:
        if isinstance(value, bool):
            return "Yes" if value else "No"
        return value

    def param(value) -> str:
        if isinstance(value, bool):
            return f"{key}:{'true' if value else 'false'}"
        return f"{key}:{value}"

    known = [v for v in counts if v is not None]
    if definition.type == AttributeType.ENUM:
        options = list(definition.options or [])
        position = {option: i for i, option in enumerate(options)}
        known.sort(key=lambda v: (position.get(v, len(options)), -sum(counts[v].values())))
    elif definition.type == AttributeType.BOOLEAN:
        known.sort(key=lambda v: not v)
    else:
        known.sort(key=lambda v: (-sum(counts[v].values()), str(v).lower()))
    groups = [Group(label(v), counts[v], {"attr": param(v)}) for v in known]
    if None in counts:
        groups.append(Group("No value", counts[None], {"attr": f"{key}:"}, True))
    return groups


def _bounded(groups: list[Group]) -> list[Group]:
    """At most ``MAX_GROUPS`` groups: the largest are kept in their order, the rest summed."""
    if len(groups) <= MAX_GROUPS:
        return groups
    keep = sorted(groups, key=lambda g: -g.total)[: MAX_GROUPS - 1]
    kept = [g for g in groups if any(g is k for k in keep)]
    other = _empty()
    rest = [g for g in groups if not any(g is k for k in keep)]
    for group in rest:
        for rank, n in group.counts.items():
            other[rank] += n
    return [*kept, Group(f"Other ({len(rest)} more)", other)]
