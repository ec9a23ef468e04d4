"""Notable usage on the account timeline, from the rollups (raw events are not read):

* ``usage_user`` — an end user's first activity (``UserUsage.first_seen_ms``, exact);
* ``usage_module`` — the first day a module was used (``AccountActivityDay``, the start of
  that local day in the workspace's time zone);
* ``usage_stopped`` — usage dropped to zero: the first day of a run of at least
  ``QUIET_DAYS`` (7) whole local days without a single event, after a day with events.
  Found from ``AccountDay`` (a row only for days with events) as a gap between one active
  day and the next (or today, when usage has not resumed) of more than ``QUIET_DAYS``
  days. A week, so that weekends and holidays of an account used on working days are not
  reported; the run must be over (its seventh day before today), so a stop shows up on the
  eighth quiet day and stays where it happened when usage resumes.

One query each per page (see ``tend.accounts.timeline``). Usage has no member behind it, so
they are left out when the timeline is filtered by member.
"""

import datetime

from django.db.models import F, Max, Min, Q, Value, Window
from django.db.models.functions import Lead

from tend.accounts.timeline import TimelineItem, TimelineSource, add_timeline_source
from tend.lib.dates import date_of, today, zone
from tend.usage.models import AccountActivityDay, AccountDay, UserUsage

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
QUIET_DAYS = 7
MS = datetime.timedelta(milliseconds=1)


def _at(ms: int) -> datetime.datetime:
    """Epoch milliseconds as a time, exactly (no float on the way)."""
    return EPOCH + ms * MS


def _before_ms(cursor, key: str) -> Q:
    """As ``tend.accounts.timeline.before``, for a time held in epoch milliseconds."""
    if cursor is None:
        return Q()
    ms, rest = divmod(cursor.at - EPOCH, MS)
    if rest:
        # The cursor's time falls inside a millisecond (another source's row): every row
        # up to that millisecond is older, every later one newer.
        return Q(first_seen_ms__lte=ms)
    if key < cursor.source:
        return Q(first_seen_ms__lte=ms)
    if key > cursor.source:
        return Q(first_seen_ms__lt=ms)
    return Q(first_seen_ms__lt=ms) | Q(first_seen_ms=ms, end_user_id__lt=cursor.id)


def first_user_items(actor, account, cursor, limit, member):
    rows = (
        UserUsage.objects.filter(workspace=actor.workspace, end_user__account=account)
        .exclude(first_seen_ms=None)
        .filter(_before_ms(cursor, "usage_user"))
        .select_related("end_user")
        .only("first_seen_ms", "end_user__name", "end_user__email", "end_user__external_id")
        .order_by("-first_seen_ms", "-end_user_id")
    )
    items = []
    for usage in rows[:limit]:
        person = usage.end_user
        who = person.name or person.email or person.external_id
        items.append(
            TimelineItem(
                source="usage_user",
                kind="end_user_first_active",
                at=_at(usage.first_seen_ms),
                id=usage.end_user_id,
                title=f"First activity from {who}",
                detail=person.email if person.name and person.email else "",
                data={"end_user_id": usage.end_user_id, "external_id": person.external_id},
            )
        )
    return items


def first_module_items(actor, account, cursor, limit, member):
    """Every module's first day for the account, in one grouped query (an account uses a
    handful of modules), then the page is cut in Python."""
    tz = zone(actor.workspace.time_zone)
    firsts = (
        AccountActivityDay.objects.filter(workspace=actor.workspace, account=account)
        .exclude(module="")
        .values("module")
        .annotate(day=Min("day"), row=Min("id"))
    )
    items = []
    for first in firsts:
        start = datetime.datetime.combine(date_of(first["day"]), datetime.time(), tzinfo=tz)
        item = TimelineItem(
            source="usage_module",
            kind="module_first_used",
            at=start.astimezone(datetime.UTC),
            # The module's earliest rollup row: a stable id for the keyset.
            id=first["row"],
            title=f"First use of {first['module']}",
            data={"module": first["module"]},
        )
        if cursor is None or item.sort_key < (cursor.at, cursor.source, cursor.id):
            items.append(item)
    items.sort(key=lambda item: item.sort_key, reverse=True)
    return items[:limit]


def _day_start(day: int, tz) -> datetime.datetime:
    start = datetime.datetime.combine(date_of(day), datetime.time(), tzinfo=tz)
    return start.astimezone(datetime.UTC)


def _short(day: int) -> str:
    date = date_of(day)
    return f"{date:%b} {date.day}"


def usage_stopped_items(actor, account, cursor, limit, member):
    """Each stop in one windowed query: every active day with the next active day beside it
    (today when there is none), kept when more than ``QUIET_DAYS`` days lie between. An
    account has few stops, so the cursor and the page are cut in Python, as for modules."""
    tz = zone(actor.workspace.time_zone)
    now = today(tz)
    stops = (
        # By account only (it is the actor's, fetched through the chokepoint): with the
        # workspace beside it SQLite reads the workspace's index, every account's days
        # (17 ms for 20,000 rows), instead of this account's (account, day) unique index.
        AccountDay.objects.filter(account=account, events__gt=0)
        .annotate(
            next_day=Window(Lead("day", 1, Value(now)), order_by=F("day").asc()),
            next_row=Window(Lead("id"), order_by=F("day").asc()),
        )
        .filter(next_day__gt=F("day") + QUIET_DAYS)
        .values_list("id", "day", "next_day", "next_row")
    )
    items = []
    for row, last_active, next_day, next_row in stops:
        stopped = last_active + 1
        resumed = next_day if next_row is not None else None
        quiet = next_day - stopped
        if resumed is None:
            detail = f"No events since {_short(last_active)} ({quiet} days)"
        else:
            detail = f"No events for {quiet} days; usage resumed on {_short(resumed)}"
        item = TimelineItem(
            source="usage_stopped",
            kind="usage_stopped",
            at=_day_start(stopped, tz),
            # The last active day's rollup row: a stable id for the keyset.
            id=row,
            title="Usage dropped to zero",
            detail=detail,
            tone="bad",
            data={
                "last_active_day": date_of(last_active).isoformat(),
                "stopped_on": date_of(stopped).isoformat(),
                "resumed_on": date_of(resumed).isoformat() if resumed is not None else None,
                "quiet_days": quiet,
            },
        )
        if cursor is None or item.sort_key < (cursor.at, cursor.source, cursor.id):
            items.append(item)
    items.sort(key=lambda item: item.sort_key, reverse=True)
    return items[:limit]


def stops_known_between(account_ids, since, until, tz) -> list[tuple[int, int, datetime.datetime]]:
    """The accounts among ``account_ids`` whose stop became known in ``(since, until]``: no
    events since their last active day, and the ``QUIET_DAYS``-th quiet day over — the
    moment ``usage_stopped_items`` starts showing it (the start of the local day
    ``last + QUIET_DAYS + 1``). Each as ``(account id, last active day, known at)``; one
    query (each account's latest active day, from the (account, day) index)."""
    latest = (
        AccountDay.objects.filter(account_id__in=account_ids, events__gt=0)
        .values("account_id")
        .annotate(last=Max("day"))
        .values_list("account_id", "last")
    )
    found = []
    for account_id, last in latest:
        known_at = _day_start(last + QUIET_DAYS + 1, tz)
        if since < known_at <= until:
            found.append((account_id, last, known_at))
    return found


def register() -> None:
    add_timeline_source(
        TimelineSource(
            "usage_user", "New users' first activity", first_user_items, by_member=False,
            position=70,
        )
    )  # fmt: skip
    add_timeline_source(
        TimelineSource(
            "usage_module", "Modules first used", first_module_items, by_member=False,
            position=71,
        )
    )  # fmt: skip
    add_timeline_source(
        TimelineSource(
            "usage_stopped", "Usage dropped to zero", usage_stopped_items, by_member=False,
            position=72,
        )
    )  # fmt: skip
