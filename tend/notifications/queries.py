"""Reading notifications: the member an actor stands for, the one access chokepoint, and the
bell's unread count (one query, cached on the request)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from tend.notifications.models import Notification

BELL_CAP = 99  # the bell shows "99+" beyond this; counting stops there


def member_of(actor):
    """The member whose notifications an actor reads: the person, or the person who created
    the API token. A token nobody created has no notifications to read."""
    member = actor.member or (actor.token.created_by if actor.token is not None else None)
    if member is None:
        raise PermissionDenied("This API token belongs to no member: create one as a member.")
    return member


def notifications_for(actor):
    member = member_of(actor)
    return Notification.objects.filter(workspace=actor.workspace, member=member)


def notification_for(actor, notification_id) -> Notification:
    """One of the actor's own notifications, or 404 (another member's or workspace's too;
    for a token no member created, no notification is its own)."""
    try:
        mine = notifications_for(actor)
    except PermissionDenied as exc:
        raise Http404("No notification matches the given query.") from exc
    try:
        return mine.get(pk=notification_id)
    except (Notification.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No notification matches the given query.") from exc


def unread_count(request) -> int:
    """The bell's number: counted once per request, up to ``BELL_CAP`` + 1."""
    cached = getattr(request, "_tend_unread", None)
    if cached is None:
        actor = getattr(request, "actor", None)
        if actor is None or actor.member is None:
            cached = 0
        else:
            ids = (
                Notification.objects.filter(
                    workspace=actor.workspace, member=actor.member, read_at__isnull=True
                )
                .order_by()
                .values_list("id", flat=True)[: BELL_CAP + 1]
            )
            cached = len(ids)
        request._tend_unread = cached
    return cached
