"""What a member's digest says: built from the change rows of what they follow and their
tasks, in a fixed number of queries whatever they follow (``build``).

Contents, for the window ``since`` → ``until``:

1. for each followed account: its health rank changes, journey stage changes, status
   changes, its usage dropping to zero (when the stop became known: its seventh quiet day
   over, as on the timeline), and its entries and exits of segments the member may see —
   except those of a segment they follow, which are listed under that segment instead
   (never twice);
2. for each followed segment (one the member may see): the accounts that entered or left it;
3. the member's open tasks due today and overdue, by the member's local today.

Each kind of change is capped at ``LIMIT`` rows (newest kept); ``truncated`` says so.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Q

from tend.accounts.models import Account, StageChange, StatusChange
from tend.alerts.models import Follow
from tend.health.models import HealthChange
from tend.lib.dates import date_of, zone
from tend.segments.models import ChangeKind, Segment, SegmentChange
from tend.usage.timeline import QUIET_DAYS, stops_known_between
from tend.work.models import Task
from tend.workspaces.models import Member

from .models import DEFAULT_HOUR, DigestRun, DigestSetting

LIMIT = 100
TASK_LIMIT = 50
LONGEST_WINDOW = datetime.timedelta(days=7)
DAY = datetime.timedelta(days=1)


@dataclass
class Change:
    at: datetime.datetime
    kind: str  # health | stage | status | usage | segment
    text: str
    tone: str = ""  # good | poor | … for the page's badges


@dataclass
class AccountSection:
    account_id: int
    name: str
    rank: str | None
    changes: list[Change] = field(default_factory=list)


@dataclass
class SegmentMove:
    at: datetime.datetime
    kind: str  # entered | left
    account_id: int
    account_name: str


@dataclass
class SegmentSection:
    segment_id: int
    name: str
    moves: list[SegmentMove] = field(default_factory=list)

    @property
    def entered(self) -> int:
        return sum(1 for m in self.moves if m.kind == ChangeKind.ENTERED)

    @property
    def left(self) -> int:
        return sum(1 for m in self.moves if m.kind == ChangeKind.LEFT)


@dataclass
class Digest:
    member: Member
    today: datetime.date
    since: datetime.datetime
    until: datetime.datetime
    time_zone: str
    accounts: list[AccountSection] = field(default_factory=list)
    segments: list[SegmentSection] = field(default_factory=list)
    overdue: list[Task] = field(default_factory=list)
    due_today: list[Task] = field(default_factory=list)
    follows_accounts: int = 0
    follows_segments: int = 0
    truncated: bool = False

    @property
    def item_count(self) -> int:
        return (
            sum(len(a.changes) for a in self.accounts)
            + sum(len(s.moves) for s in self.segments)
            + len(self.overdue)
            + len(self.due_today)
        )

    @property
    def is_empty(self) -> bool:
        return self.item_count == 0

    def lines(self) -> list[str]:
        """Every item as one line: what the email's text says, and what tests compare."""
        out = []
        for a in self.accounts:
            out += [f"{a.name}: {c.text}" for c in a.changes]
        for s in self.segments:
            out += [f"{s.name}: {m.account_name} {m.kind}" for m in s.moves]
        out += [f"Overdue: {t.title} ({t.account.name})" for t in self.overdue]
        out += [f"Due today: {t.title} ({t.account.name})" for t in self.due_today]
        return out


def setting_of(member: Member) -> DigestSetting:
    """The member's setting, or the defaults (unsaved) when they never chose."""
    try:
        return member.digest_setting
    except DigestSetting.DoesNotExist:
        return DigestSetting(
            workspace_id=member.workspace_id, member=member, enabled=True, hour=DEFAULT_HOUR
        )


def time_zone_of(member: Member, setting: DigestSetting | None = None) -> str:
    setting = setting or setting_of(member)
    return setting.time_zone or member.workspace.time_zone or "UTC"


def local_now(member: Member, now: datetime.datetime, setting=None) -> datetime.datetime:
    return now.astimezone(zone(time_zone_of(member, setting)))


def window_start(member: Member, until: datetime.datetime) -> datetime.datetime:
    """Where the next digest starts: where the last one ended, a day back for the first,
    and never more than a week back."""
    last = (
        DigestRun.objects.filter(workspace_id=member.workspace_id, member=member, until__lte=until)
        .order_by("-until")
        .values_list("until", flat=True)
        .first()
    )
    start = last or until - DAY
    return max(start, until - LONGEST_WINDOW)


def _label(value) -> str:
    return str(value).replace("_", " ").title() if value else "unrated"


def build(member: Member, now: datetime.datetime, since: datetime.datetime | None = None) -> Digest:
    setting = setting_of(member)
    tz_name = time_zone_of(member, setting)
    today = now.astimezone(zone(tz_name)).date()
    since = since or window_start(member, now)
    digest = Digest(member=member, today=today, since=since, until=now, time_zone=tz_name)
    ws = member.workspace_id

    follows = list(
        Follow.objects.filter(workspace_id=ws, member=member).values_list(
            "account_id", "segment_id"
        )
    )
    account_ids = [a for a, _ in follows if a]
    segment_ids = [s for _, s in follows if s]
    digest.follows_accounts, digest.follows_segments = len(account_ids), len(segment_ids)
    window = {"changed_at__gt": since, "changed_at__lte": now}

    visible = Segment.objects.filter(workspace_id=ws).visible_to(member)
    followed_segments = {}
    if segment_ids:
        followed_segments = {
            s.pk: SegmentSection(s.pk, s.name)
            for s in visible.filter(pk__in=segment_ids).only("pk", "name").order_by("name", "pk")
        }

    sections: dict[int, AccountSection] = {}
    if account_ids:
        for account in (
            Account.objects.filter(workspace_id=ws, pk__in=account_ids)
            .select_related("health")
            .only("pk", "name", "health__rank")
            .order_by("name", "pk")
        ):
            health = getattr(account, "health", None)
            sections[account.pk] = AccountSection(
                account.pk, account.name, health.rank if health else None
            )

        def newest(queryset):
            rows = list(queryset.order_by("-changed_at", "-id")[: LIMIT + 1])
            if len(rows) > LIMIT:
                digest.truncated = True
            return rows[:LIMIT]

        for h in newest(
            HealthChange.objects.filter(workspace_id=ws, account_id__in=account_ids, **window)
        ):
            text = (
                f"Health {_label(h.from_rank)} → {_label(h.to_rank)}"
                if h.from_rank
                else f"Health rated {_label(h.to_rank)}"
            )
            sections[h.account_id].changes.append(
                Change(h.changed_at, "health", text, h.to_rank or "")
            )
        for s in newest(
            StageChange.objects.filter(
                workspace_id=ws, account_id__in=account_ids, **window
            ).select_related("from_stage", "to_stage")
        ):
            before = s.from_stage.name if s.from_stage else "no stage"
            after = s.to_stage.name if s.to_stage else "no stage"
            sections[s.account_id].changes.append(
                Change(s.changed_at, "stage", f"Stage {before} → {after}")
            )
        for s in newest(
            StatusChange.objects.filter(workspace_id=ws, account_id__in=account_ids, **window)
        ):
            sections[s.account_id].changes.append(
                Change(
                    s.changed_at,
                    "status",
                    f"Status {s.get_from_status_display()} → {s.get_to_status_display()}",
                    s.to_status,
                )
            )
        # Usage days are the workspace's local days, whatever the member's own zone.
        usage_zone = zone(member.workspace.time_zone)
        for account_id, last, known_at in stops_known_between(account_ids, since, now, usage_zone):
            last_day = date_of(last)
            sections[account_id].changes.append(
                Change(
                    known_at,
                    "usage",
                    f"Usage dropped to zero: no events since {last_day:%b} {last_day.day} "
                    f"({QUIET_DAYS} days)",
                    "poor",
                )
            )

    if account_ids or followed_segments:
        moves = list(
            SegmentChange.objects.filter(
                Q(account_id__in=account_ids) | Q(segment_id__in=list(followed_segments)),
                workspace_id=ws,
                segment__in=visible,
                at__gt=since,
                at__lte=now,
            )
            .select_related("segment", "account")
            .only("at", "kind", "segment_id", "segment__name", "account_id", "account__name")
            .order_by("-at", "-id")[: LIMIT + 1]
        )
        if len(moves) > LIMIT:
            digest.truncated = True
        for m in moves[:LIMIT]:
            if m.segment_id in followed_segments:
                followed_segments[m.segment_id].moves.append(
                    SegmentMove(m.at, m.kind, m.account_id, m.account.name)
                )
            elif m.account_id in sections:
                verb = "Entered" if m.kind == ChangeKind.ENTERED else "Left"
                sections[m.account_id].changes.append(
                    Change(m.at, "segment", f"{verb} segment “{m.segment.name}”", m.kind)
                )

    for section in sections.values():
        section.changes.sort(key=lambda c: c.at)
    for section in followed_segments.values():
        section.moves.sort(key=lambda m: (m.at, m.account_name))
    digest.accounts = [s for s in sections.values() if s.changes]
    digest.segments = [s for s in followed_segments.values() if s.moves]

    tasks = list(
        Task.objects.filter(workspace_id=ws, assignee=member, due_date__lte=today)
        .open()
        .select_related("account")
        .by_urgency()[: TASK_LIMIT + 1]
    )
    if len(tasks) > TASK_LIMIT:
        digest.truncated = True
    for task in tasks[:TASK_LIMIT]:
        (digest.overdue if task.due_date < today else digest.due_today).append(task)
    return digest
