"""Small builders for the webhook tests (no network)."""

from django.utils import timezone

from tend.lib.outgoing import generate_secret, new_message_id
from tend.webhooks.models import Attempt, Delivery, Subscription

URL = "https://crm.acme.test/webhooks"


def make_subscription(workspace, url=URL, types=("account.created",), **fields) -> Subscription:
    subscription = Subscription(workspace=workspace, url=url, event_types=list(types), **fields)
    subscription.secret = generate_secret()
    subscription.save()
    return subscription


def make_delivery(subscription, status="failed", n=0, **fields) -> Delivery:
    delivery = Delivery.objects.create(
        workspace_id=subscription.workspace_id,
        subscription=subscription,
        event_type="account.created",
        message_id=new_message_id(),
        body=b'{"type":"account.created","timestamp":"2026-11-30T00:00:00+00:00","data":{"n":%d}}'
        % n,
        status=status,
        attempts=1,
        reason="503 Service Unavailable" if status != "delivered" else "204 No Content",
        last_status_code=503 if status != "delivered" else 204,
        **fields,
    )
    Attempt.objects.create(
        workspace_id=subscription.workspace_id,
        delivery=delivery,
        number=1,
        url=subscription.url,
        request_headers={"webhook-id": delivery.message_id},
        outcome="failed" if status == "failed" else "delivered",
        status_code=delivery.last_status_code,
        reason=delivery.reason,
        finished_at=timezone.now(),
        duration_ms=12,
    )
    return delivery
