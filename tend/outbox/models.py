"""The outbox: every email Tend sends, rendered once and stored, with a log of each delivery
attempt (docs/outbox.md).

A message moves queued → sent, or queued → retrying → … → sent, or to failed (a 5xx answer,
or transient failures for longer than the retry schedule). While a job is talking to the
mail server the message keeps its status and carries a claim (``claimed_by`` and
``claimed_until``), so two jobs never send it at the same time.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_scopes import ScopedManager


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RETRYING = "retrying", "Retrying"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


PENDING = (MessageStatus.QUEUED, MessageStatus.RETRYING)


class MessageQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status__in=PENDING)


class Message(models.Model):
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(
        max_length=200,
        null=True,
        blank=True,
        help_text="The caller's idempotency key: queueing again with the same key returns this message.",
    )
    source = models.CharField(
        max_length=100, blank=True, help_text="What queued it, e.g. plays.send_email."
    )
    # A plain id, not a foreign key: the outbox sits below accounts in the import layers.
    account_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    from_email = models.CharField(max_length=400)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    reply_to = models.CharField(max_length=400, blank=True)
    subject = models.CharField(max_length=500)
    text = models.TextField()
    html = models.TextField(blank=True)
    # Every header in the order written, as [name, value] pairs; the same on each attempt.
    headers = models.JSONField(default=list)
    message_id = models.CharField(
        max_length=250, unique=True, help_text="The Message-ID header, with <>."
    )

    status = models.CharField(
        max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    reason = models.TextField(
        blank=True, help_text="Why the message is in its status (the last reply or error)."
    )
    attempts = models.PositiveIntegerField(default=0)
    # Transient failures since the last success or manual retry: the place in the retry schedule.
    retries = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(models.Manager.from_queryset(MessageQuerySet), workspace="workspace")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "status", "id"], name="outbox_msg_status_idx"),
            models.Index(fields=["workspace", "id"], name="outbox_msg_list_idx"),
            models.Index(fields=["status", "next_attempt_at"], name="outbox_msg_due_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "key"],
                condition=Q(key__isnull=False),
                name="outbox_msg_unique_key",
            )
        ]

    def __str__(self):
        return f"{self.subject} → {', '.join(self.to)}"

    @property
    def recipients(self) -> list[str]:
        return [*self.to, *self.cc]

    @property
    def can_retry(self) -> bool:
        return self.status in (MessageStatus.FAILED, MessageStatus.RETRYING)

    @property
    def reason_summary(self) -> str:
        return self.reason.split("\n", 1)[0]


class AttemptOutcome(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SENT = "sent", "Sent"
    RETRY = "retry", "Will retry"
    FAILED = "failed", "Failed"
    INTERRUPTED = "interrupted", "Interrupted"


class DeliveryAttempt(models.Model):
    """One try at handing a message to the mail server: the delivery log."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=16, choices=AttemptOutcome.choices, default=AttemptOutcome.IN_PROGRESS
    )
    transport = models.CharField(
        max_length=300, blank=True, help_text="Where it was sent, without the password."
    )
    smtp_code = models.PositiveIntegerField(null=True, blank=True)
    reply = models.TextField(blank=True, help_text="The server's reply, or the error.")
    job_id = models.BigIntegerField(null=True, blank=True)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        ordering = ["message", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "number"], name="outbox_attempt_unique_number"
            )
        ]

    def __str__(self):
        return f"{self.message_id} #{self.number}: {self.outcome}"
