"""Raw events, newest first: the activity stream and ``GET /api/v1/events``. The only reader
of ``UsageEvent`` outside the rollup job (DESIGN rule 7)."""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Q

from tend.lib.cursor import InvalidCursor, decode_cursor, encode_cursor
from tend.lib.errors import InvalidInput
from tend.usage.models import (
    UsageEvent,
)
from tend.workspaces.models import Workspace

# Trees up to this many accounts read the stream as one index walk per account, merged;
# larger ones (rare) sort the tree's events in the database instead.
MERGE_MAX_ACCOUNTS = 100


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


def uncounted_events(workspace: Workspace, watermark: int, cap: int) -> int:
    """How many of the workspace's events are above the rollup watermark, counting no
    further than ``cap`` (a long backlog need not be counted exactly to be reported)."""
    return (
        UsageEvent.objects.filter(workspace=workspace, id__gt=watermark)
        .order_by()
        .values("id")[:cap]
        .count()
    )


@dataclass(frozen=True)
class EventRow:
    id: int
    account_id: int | None
    ts: int
    activity: str
    module: str
    properties: dict | None


def events_after(
    workspace: Workspace,
    after_id: int,
    *,
    activity: str | None = None,
    account_id: int | None = None,
    limit: int = 5000,
    up_to_id: int | None = None,
) -> list[EventRow]:
    """Events with an id above ``after_id`` (at most ``up_to_id``), oldest first: how plays
    read "event received" without touching ``UsageEvent`` themselves (DESIGN rule 7)."""
    rows = UsageEvent.objects.filter(workspace=workspace, id__gt=after_id)
    if up_to_id is not None:
        rows = rows.filter(id__lte=up_to_id)
    if activity is not None:
        rows = rows.filter(activity=activity)
    if account_id is not None:
        rows = rows.filter(account_id=account_id)
    fields = ("id", "account_id", "ts", "activity", "module", "properties")
    return [EventRow(*values) for values in rows.order_by("id").values_list(*fields)[:limit]]


def last_event_id(workspace: Workspace) -> int:
    """The newest event's id (0 when there is none): where a new reader starts."""
    return (
        UsageEvent.objects.filter(workspace=workspace)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )


def latest_event(workspace: Workspace, account_id: int, activity: str) -> EventRow | None:
    """The account's newest event of one activity, by arrival."""
    fields = ("id", "account_id", "ts", "activity", "module", "properties")
    values = (
        UsageEvent.objects.filter(workspace=workspace, account_id=account_id, activity=activity)
        .order_by("-id")
        .values_list(*fields)
        .first()
    )
    return EventRow(*values) if values else None
