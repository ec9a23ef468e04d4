"""Telling a workspace's admins that something the data hub runs by itself failed (an SFTP
source that cannot be polled, a scheduled export that cannot be written): in the app and by
email, once per ``key``."""

from tend.notifications.actions import notify
from tend.outbox.actions import queue_email
from tend.workspaces.models import Member, Seat


def tell_admins(
    workspace, *, subject: str, text: str, key: str, url: str, cause: str, kind: str, source: str
) -> None:
    members = list(
        Member.objects.filter(
            workspace_id=workspace.pk, seat=Seat.ADMIN, is_active=True, user__is_active=True
        ).select_related("user")
    )
    if not members:
        return
    queue_email(
        workspace,
        to=sorted({m.user.email for m in members}),
        subject=subject[:200],
        text=text,
        source=source,
        key=key,
    )
    for member in members:
        notify(member, kind=kind, title=subject[:200], key=key, url=url, cause=cause)
