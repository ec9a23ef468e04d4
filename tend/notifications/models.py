"""In-app notifications: one row per member and cause.

Notifications sits just above accounts in the layers, so every app above it (usage, health,
segments, work's @mentions, plays, alerts, later imports and webhooks) can call
:func:`tend.notifications.actions.notify`. ``key`` names the cause ("alert:3:health_change:81",
"mention:touchpoint:12"); it is unique per member, so the same cause never notifies the
same member twice, however often its writer runs.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_scopes import ScopedManager

from tend.accounts.models import Account
from tend.workspaces.models import Member, Workspace


class NotificationQuerySet(models.QuerySet):
    def for_member(self, member):
        return self.filter(workspace_id=member.workspace_id, member=member)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40, help_text="What sent it: alert, mention …")
    title = models.CharField(max_length=300)
    body = models.CharField(max_length=2000, blank=True)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    url = models.CharField(max_length=500, blank=True, help_text="Where the cause is seen.")
    cause = models.CharField(max_length=500, blank=True, help_text="What happened, in words.")
    key = models.CharField(max_length=200)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(models.Manager.from_queryset(NotificationQuerySet), workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "key"], name="notification_unique_key")
        ]
        indexes = [
            models.Index(fields=["member", "-id"], name="notification_member"),
            # The bell's count reads only unread rows.
            models.Index(
                fields=["member"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]
        ordering = ["-id"]

    def __str__(self):
        return f"{self.kind} for member {self.member_id}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
