"""The one write path of notifications: notify, mark read, mark all read."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from tend.lib.errors import InvalidInput
from tend.notifications.models import Notification

MAX_TITLE = 300
MAX_KEY = 200


def _clip(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def notify(
    member,
    *,
    kind: str,
    title: str,
    key: str,
    account=None,
    url: str = "",
    cause: str = "",
    body: str = "",
    now=None,
) -> Notification | None:
    """Notify ``member``; return the new notification, or None when ``key`` already
    notified them (the same cause never notifies twice).

    Refuses a member who is inactive or an account of another workspace: a notification
    never crosses workspaces. Long titles and causes are shortened, never refused: the
    writer is usually a job that cannot fix its input.
    """
    if member is None or not member.is_active:
        return None
    if not key or len(key) > MAX_KEY:
        raise InvalidInput("key", f"must be 1 to {MAX_KEY} characters")
    if not title or not title.strip():
        raise InvalidInput("title", "is empty")
    if account is not None and account.workspace_id != member.workspace_id:
        raise InvalidInput("account", "belongs to another workspace than the member")
    if Notification.objects.filter(member=member, key=key).exists():
        return None
    try:
        with transaction.atomic():
            return Notification.objects.create(
                workspace_id=member.workspace_id,
                member=member,
                kind=_clip(kind, 40),
                title=_clip(title, MAX_TITLE),
                body=(body or "")[:2000],
                account=account,
                url=(url or "")[:500],
                cause=_clip(cause, 500),
                key=key,
                created_at=now or timezone.now(),
            )
    except IntegrityError:  # a concurrent writer notified first
        return None


def mark_read(member, notification: Notification) -> Notification:
    if notification.member_id != member.pk:
        raise InvalidInput("id", "is not one of your notifications")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def mark_all_read(member) -> int:
    """Mark every unread notification of ``member`` read; return how many."""
    return Notification.objects.for_member(member).unread().update(read_at=timezone.now())
