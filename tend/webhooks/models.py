"""Outgoing webhooks (docs/webhooks.md): a workspace's subscriptions, one delivery row per
event and subscription, and a log of every attempt.

A delivery moves pending → delivered, or pending → retrying → … → delivered, or to failed
(a permanent answer — 3xx, 4xx, a refused address — or retries exhausted after ~27 h, or its
endpoint disabled). While a job talks to the receiver the delivery keeps its status and
carries a claim (``claimed_by``, ``claimed_until``), so two jobs never send it at once.
"""

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from tend.events.models import Event
from tend.lib.sealing import seal, unseal
from tend.workspaces.models import Member, Workspace


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    DISABLED = "disabled", "Disabled"


class Subscription(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    url = models.CharField(max_length=2048)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    # ``whsec_…`` sealed with tend.lib.sealing (Fernet, keys from TEND_SECRETS_KEYS).
    secret_sealed = models.TextField()
    # After a rotation the old secret keeps signing, beside the new one, until
    # ``previous_secret_until``: receivers switch over without dropping a delivery.
    previous_secret_sealed = models.TextField(blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    disabled_reason = models.CharField(max_length=1000, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["workspace", "status"], name="webhook_sub_status")]

    def __str__(self):
        return self.url

    @property
    def secret(self) -> str:
        return unseal(self.secret_sealed)

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_sealed = seal(value)

    @property
    def previous_secret(self) -> str:
        return unseal(self.previous_secret_sealed)

    def previous_secret_valid(self, now) -> bool:
        return (
            bool(self.previous_secret_sealed)
            and self.previous_secret_until is not None
            and (now < self.previous_secret_until)
        )

    @property
    def is_active(self) -> bool:
        return self.status == SubscriptionStatus.ACTIVE

    def wants(self, event_type: str) -> bool:
        return self.is_active and event_type in self.event_types


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Retrying"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


PENDING = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
TEST_EVENT = "webhook.test"


class Delivery(models.Model):
    """One event for one subscription: the exact bytes sent on every attempt, under one
    ``webhook-id`` (the receiver's idempotency key), re-signed per attempt."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    # Empty for a test event; SET_NULL so purging old events keeps the log.
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    event_type = models.CharField(max_length=100)
    message_id = models.CharField(max_length=64)
    body = models.BinaryField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    reason = models.CharField(max_length=1000, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Failed attempts since the schedule (re)started: a redelivery starts it again.
    retries = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"],
                condition=models.Q(event__isnull=False),
                name="webhook_delivery_once_per_event",
            )
        ]
        indexes = [
            models.Index(fields=["subscription", "-id"], name="webhook_delivery_log"),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "retrying"]),
                name="webhook_delivery_due",
            ),
        ]

    def __str__(self):
        return f"{self.event_type} → {self.subscription_id}: {self.status}"

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING

    @property
    def body_text(self) -> str:
        return bytes(self.body).decode("utf-8", errors="replace")


class AttemptOutcome(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    DELIVERED = "delivered", "Delivered"
    RETRY = "retry", "Will retry"
    FAILED = "failed", "Failed"
    GONE = "gone", "Gone (410)"
    INTERRUPTED = "interrupted", "Interrupted"


class Attempt(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    url = models.CharField(max_length=2048)
    request_headers = models.JSONField(default=dict)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(
        max_length=12, choices=AttemptOutcome.choices, default=AttemptOutcome.IN_PROGRESS
    )
    status_code = models.PositiveIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=1000, blank=True)
    response_body = models.TextField(blank=True)
    address = models.CharField(max_length=64, blank=True)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number")
        ]

    def __str__(self):
        return f"attempt {self.number} of delivery {self.delivery_id}: {self.outcome}"
