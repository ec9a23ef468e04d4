"""Follows and real-time alert rules.

* :class:`Follow` — a member follows an account or a segment (exactly one of the two).
* :class:`AlertRule` — a change kind with its condition (``trigger_kind`` /
  ``trigger_config``: the same trigger kinds plays use, plus the alert-only ones in
  ``tend.alerts.kinds``), who to tell (assignment roles on the account, named members, the
  account's or segment's followers) and how (in-app, email, Slack). ``trigger_cursor`` /
  ``trigger_state`` remember how far the rule has read, exactly as a play's do, so the
  trigger kinds poll a rule as they poll a play.
* :class:`AlertFiring` — one row per rule × occurrence × recipient (a member, or the
  rule's Slack channel): unique, so a change fires once however often it is read; its
  status says whether it was delivered or suppressed by the rate limit.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_scopes import ScopedManager

from tend.accounts.models import Account
from tend.segments.models import Segment
from tend.workspaces.models import Member, Workspace


class Follow(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=False, segment__isnull=True)
                | Q(account__isnull=True, segment__isnull=False),
                name="follow_one_target",
            ),
            models.UniqueConstraint(
                fields=["member", "account"],
                condition=Q(account__isnull=False),
                name="follow_unique_account",
            ),
            models.UniqueConstraint(
                fields=["member", "segment"],
                condition=Q(segment__isnull=False),
                name="follow_unique_segment",
            ),
        ]
        indexes = [
            models.Index(fields=["account"], name="follow_by_account"),
            models.Index(fields=["segment"], name="follow_by_segment"),
        ]
        ordering = ["-id"]

    def __str__(self):
        target = f"account {self.account_id}" if self.account_id else f"segment {self.segment_id}"
        return f"member {self.member_id} follows {target}"


class AlertRule(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    trigger_kind = models.CharField(max_length=40)
    trigger_config = models.JSONField(default=dict, blank=True)
    # Who: members holding these assignment roles on the account, these members, and the
    # followers of the account (and of the segment, for segment changes).
    roles = models.JSONField(default=list, blank=True, help_text="Assignment role ids.")
    members = models.JSONField(default=list, blank=True, help_text="Member ids.")
    followers = models.BooleanField(default=True)
    # How.
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=False)
    slack_url = models.CharField(max_length=2048, blank=True)
    max_per_hour = models.PositiveSmallIntegerField(
        default=10, help_text="At most this many alerts of the rule per member (and for Slack) an hour."
    )
    trigger_cursor = models.BigIntegerField(default=0)
    trigger_state = models.JSONField(default=dict, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="alert_rule_unique_name")
        ]
        indexes = [models.Index(fields=["workspace", "is_active"], name="alert_rule_active")]
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class FiringStatus(models.TextChoices):
    SENT = "sent", "Sent"
    SUPPRESSED = "suppressed", "Suppressed (rate limit)"


SLACK = "slack"


class AlertFiring(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="firings")
    key = models.CharField(max_length=200, help_text="The occurrence: health_change:81 …")
    # "member:12", or "slack" for the rule's channel.
    recipient = models.CharField(max_length=40)
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cause = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=12, choices=FiringStatus.choices)
    # Slack only: the outcome of the post ("" while queued).
    outcome = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "key", "recipient"], name="alert_firing_unique"
            )
        ]
        indexes = [
            # The rate limit: a rule's recent firings for one recipient.
            models.Index(fields=["rule", "recipient", "at"], name="alert_firing_recent"),
        ]
        ordering = ["-id"]

    def __str__(self):
        return f"rule {self.rule_id} {self.key} → {self.recipient}: {self.status}"
