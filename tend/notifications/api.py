"""``/notifications``: the calling member's notifications (for a token, its creator's).
Another member's or workspace's ids are 404; reading needs the read scope only, since a
member may always mark their own notifications read."""

import datetime

from django.conf import settings
from ninja import Field, Query, Router, Schema

from tend.lib.api_schemas import ERRORS
from tend.lib.cursor import encode_cursor, id_cursor
from tend.notifications.actions import mark_all_read, mark_read
from tend.notifications.queries import member_of, notification_for, notifications_for

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    cause: str = Field(..., description="What happened, in words.")
    url: str = Field(..., description="Where the cause is seen (a path of this site).")
    account_id: int | None
    key: str = Field(..., description="The cause's key: one notification per member and key.")
    read_at: datetime.datetime | None
    created_at: datetime.datetime


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int = Field(..., description="How many of the member's notifications are unread.")


class NotificationFilters(Schema):
    limit: int = Field(settings.TEND_PAGE_SIZE_DEFAULT, ge=1, le=settings.TEND_PAGE_SIZE_MAX)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")
    unread: bool = Field(False, description="Only unread notifications.")


class MarkedOut(Schema):
    marked: int


def notification_out(n) -> dict:
    return {name: getattr(n, name) for name in NotificationOut.model_fields}


@router.get(
    "/notifications",
    response={200: NotificationPage, **ERRORS},
    summary="List my notifications",
)
def list_notifications(request, filters: Query[NotificationFilters]):
    """Newest first, cursor paginated."""
    mine = notifications_for(request.auth)
    rows = mine.filter(read_at__isnull=True) if filters.unread else mine
    before = id_cursor(filters.cursor, "before")
    if before is not None:
        rows = rows.filter(id__lt=before)
    found = list(rows.order_by("-id")[: filters.limit + 1])
    more = len(found) > filters.limit
    found = found[: filters.limit]
    return {
        "items": [notification_out(n) for n in found],
        "next_cursor": encode_cursor({"before": found[-1].pk}) if more else None,
        "unread": mine.filter(read_at__isnull=True).count(),
    }


@router.post(
    "/notifications/{int:notification_id}/read",
    response={200: NotificationOut, **ERRORS},
    summary="Mark a notification read",
)
def read_notification(request, notification_id: int):
    notification = notification_for(request.auth, notification_id)
    return notification_out(mark_read(member_of(request.auth), notification))


@router.post(
    "/notifications/read-all", response={200: MarkedOut, **ERRORS}, summary="Mark all read"
)
def read_all_notifications(request):
    return {"marked": mark_all_read(member_of(request.auth))}
