"""One HTTP delivery of a play step (call_webhook, post_slack): the row that makes the step
idempotent. Keyed by the step run's key, it holds the exact bytes sent — so every retry
signs and sends the same body under the same ``webhook-id`` — and whether the receiver
has taken it, so a re-run of a delivered step (its worker killed before the run moved on)
sends nothing again. Each attempt's outcome is in the run's log (``PlayRunStep``).
"""

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from tend.workspaces.models import Workspace


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class StepDelivery(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey("plays.PlayRun", on_delete=models.CASCADE, related_name="deliveries")
    position = models.PositiveIntegerField()
    # The step run's key (``play-run:<run>:step:<position>``), sent as ``webhook-id``.
    key = models.CharField(max_length=200)
    kind = models.CharField(max_length=40)
    url = models.CharField(max_length=2048)
    body = models.BinaryField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_reason = models.CharField(max_length=1000, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="step_delivery_unique_key")
        ]
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.kind} delivery {self.key}: {self.status}"
