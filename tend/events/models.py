"""An event: something happened in a workspace that subscribers outside Tend may hear of.

Written in the same transaction as the change it reports (:func:`tend.events.emit`), so it
exists exactly when the change does; ``dispatched_at`` is set, in the same transaction as
the consumers' own rows (webhook deliveries), once every consumer has taken it. An event is
never lost between a commit and a send: until it is dispatched, a job (and a periodic sweep
behind it) comes back for it.
"""

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from tend.workspaces.models import Workspace


class Event(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=100)
    data = models.JSONField(default=dict)
    occurred_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        indexes = [
            models.Index(
                fields=["workspace", "id"],
                condition=models.Q(dispatched_at__isnull=True),
                name="event_undispatched",
            ),
            models.Index(fields=["occurred_at"], name="event_occurred"),
        ]
        ordering = ["id"]

    def __str__(self):
        return f"{self.type} #{self.pk}"
