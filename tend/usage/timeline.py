"""Notable usage on the account timeline, from the rollups (raw events are not read):

* ``usage_user`` — an end user's first activity (``UserUsage.first_seen_ms``, exact);
* ``usage_module`` — the first day a module was used (``AccountActivityDay``, the start of
  that local day in the workspace's time zone).

One query each per page (see ``tend.accounts.timeline``). Usage has no member behind it, so
both are left out when the timeline is filtered by member. "Usage dropped to zero" is not
here: the rollups keep no row for the day it happened.
"""

import datetime

from django.db.models import Min, Q

from tend.accounts.timeline import TimelineItem, TimelineSource, add_timeline_source
from tend.lib.dates import date_of, zone
from tend.usage.models import AccountActivityDay, UserUsage

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
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
