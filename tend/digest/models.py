"""The daily digest: each member's setting, and one row per digest day.

* :class:`DigestSetting` — on/off, the local hour, and the member's own time zone (blank:
  the workspace's). A member without a row gets the defaults: on, at 08:00 in the
  workspace's time zone.
* :class:`DigestRun` — one per member and local day (unique): the window it covered
  (``since`` → ``until``, so the next digest starts where this one ended) and the outbox
  message it queued (empty when there was nothing to say). A job that runs twice finds the
  row and does nothing; the outbox key ``digest:<member>:<day>`` holds it to one message
  even if the row were lost.
"""

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from tend.outbox.models import Message
from tend.workspaces.models import Member, Workspace

DEFAULT_HOUR = 8


class DigestSetting(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="digest_setting")
    enabled = models.BooleanField(default=True)
    hour = models.PositiveSmallIntegerField(default=DEFAULT_HOUR, help_text="Local hour, 0–23.")
    time_zone = models.CharField(max_length=64, blank=True, help_text="Blank: the workspace's.")
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(hour__lte=23), name="digest_hour_range")
        ]

    def __str__(self):
        return f"digest of member {self.member_id}: {'on' if self.enabled else 'off'} at {self.hour}:00"


class DigestRun(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(help_text="The member's local day.")
    since = models.DateTimeField()
    until = models.DateTimeField()
    items = models.PositiveIntegerField(default=0)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "day"], name="digest_run_unique_day")
        ]
        ordering = ["-day", "-id"]

    def __str__(self):
        return f"digest of member {self.member_id} for {self.day}"
