"""``/webhooks``: outgoing webhook subscriptions, their delivery log, redelivery and test
events — for tokens with the admin scope (other scopes 403; another workspace's ids 404)."""

import datetime
from typing import Literal

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tend.events import registry
from tend.lib.api_schemas import ERRORS, PageFilters, Strict
from tend.lib.cursor import encode_cursor, id_cursor, id_page
from tend.webhooks import actions
from tend.webhooks.models import Delivery, Subscription
from tend.workspaces.access import ADMIN, get_for

router = Router(tags=["webhooks"])

DeliveryStatusName = Literal["pending", "retrying", "delivered", "failed"]


class EventTypeOut(Schema):
    key: str
    label: str
    group: str
    description: str
    example: dict


class SubscriptionOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    status: Literal["active", "paused", "disabled"]
    disabled_reason: str = Field(..., description="Why it was disabled (a 410 answer), if it was.")
    disabled_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    previous_secret_until: datetime.datetime | None = Field(
        ...,
        description="After a rotation that kept the old secret: until when it still signs.",
    )


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(..., description="The signing secret (whsec_…); shown here once.")


class SecretOut(Schema):
    secret: str


class RotateIn(Strict):
    keep_previous_hours: int = Field(
        0,
        strict=True,  # true/false are not hours
        ge=0,
        le=actions.MAX_OVERLAP_HOURS,
        description="Keep signing with the old secret too for this many hours (0: stop it now).",
    )


class RotatedOut(SecretOut):
    previous_secret_until: datetime.datetime | None


class SubscriptionIn(Strict):
    url: str = Field(..., max_length=2048, description="Where to POST events (https://…).")
    event_types: list[str] = Field(..., description="Keys from GET /webhooks/event-types.")
    description: str = Field("", max_length=200)
    secret: str | None = Field(
        None, description="A whsec_… secret of your own; generated when left out."
    )


class SubscriptionPatch(Strict):
    url: str | None = Field(None, max_length=2048)
    event_types: list[str] | None = None
    description: str | None = Field(None, max_length=200)
    status: Literal["active", "paused"] | None = Field(
        None, description="`active` also re-enables an endpoint disabled by a 410."
    )


class SubscriptionPage(Schema):
    items: list[SubscriptionOut]
    next_cursor: str | None


class AttemptOut(Schema):
    number: int
    url: str
    started_at: datetime.datetime
    finished_at: datetime.datetime | None
    duration_ms: int | None
    outcome: Literal["in_progress", "delivered", "retry", "failed", "gone", "interrupted"]
    status_code: int | None
    reason: str
    response_body: str
    request_headers: dict[str, str]


class DeliveryOut(Schema):
    id: int
    webhook_id: int
    event_id: int | None
    event_type: str
    message_id: str = Field(..., description="The webhook-id header: the same on every attempt.")
    status: DeliveryStatusName
    reason: str
    attempts: int
    last_status_code: int | None
    next_attempt_at: datetime.datetime | None
    created_at: datetime.datetime
    delivered_at: datetime.datetime | None
    failed_at: datetime.datetime | None


class DeliveryDetailOut(DeliveryOut):
    body: str
    attempt_log: list[AttemptOut]


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


class DeliveryFilters(PageFilters):
    status: DeliveryStatusName | None = None


def subscription_out(s: Subscription) -> dict:
    return {name: getattr(s, name) for name in SubscriptionOut.model_fields}


def delivery_out(d: Delivery) -> dict:
    names = [n for n in DeliveryOut.model_fields if n != "webhook_id"]
    return {"webhook_id": d.subscription_id, **{n: getattr(d, n) for n in names}}


def delivery_detail_out(d: Delivery) -> dict:
    return {
        **delivery_out(d),
        "body": d.body_text,
        "attempt_log": [
            {n: getattr(a, n) for n in AttemptOut.model_fields}
            for a in d.attempt_log.order_by("number")
        ],
    }


def _subscription(request, id: int) -> Subscription:
    return get_for(request.auth, Subscription, ADMIN, pk=id)


def _delivery(request, id: int, delivery_id: int) -> Delivery:
    subscription = _subscription(request, id)
    return get_for(
        request.auth, Delivery.objects.select_related("subscription"), ADMIN,
        pk=delivery_id, subscription=subscription,
    )  # fmt: skip


@router.get(
    "/webhooks/event-types",
    response={200: list[EventTypeOut], **ERRORS},
    summary="List event types",
)
def event_types(request):
    """Every event a webhook can subscribe to, with an example of its `data`."""
    request.auth.require(ADMIN)
    return [t.__dict__ for t in registry.all_types()]


@router.get("/webhooks", response={200: SubscriptionPage, **ERRORS}, summary="List webhooks")
def list_webhooks(request, filters: Query[PageFilters]):
    actor = request.auth
    actor.require(ADMIN)
    rows = Subscription.objects.filter(workspace=actor.workspace)
    rows, next_cursor = id_page(rows, filters.cursor, filters.limit)
    return {"items": [subscription_out(s) for s in rows], "next_cursor": next_cursor}


@router.post(
    "/webhooks",
    response={201: SubscriptionCreated, **ERRORS},
    summary="Create a webhook",
    description=(
        "The URL is checked at once: loopback, private, link-local and metadata addresses are "
        "refused (422 naming `url`) unless the install's TEND_OUTGOING_ALLOW names them. The "
        "answer holds the signing secret; GET /webhooks/{id}/secret shows it again to admins."
    ),
)
def create_webhook(request, payload: SubscriptionIn):
    subscription, secret = actions.create_subscription(request.auth, payload.dict())
    return Status(201, {**subscription_out(subscription), "secret": secret})


@router.get(
    "/webhooks/{int:id}", response={200: SubscriptionOut, **ERRORS}, summary="Get a webhook"
)
def get_webhook(request, id: int):
    return subscription_out(_subscription(request, id))


@router.patch(
    "/webhooks/{int:id}", response={200: SubscriptionOut, **ERRORS}, summary="Change a webhook"
)
def patch_webhook(request, id: int, payload: SubscriptionPatch):
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return subscription_out(
        actions.update_subscription(request.auth, _subscription(request, id), data)
    )


@router.delete("/webhooks/{int:id}", response={204: None, **ERRORS}, summary="Delete a webhook")
def delete_webhook(request, id: int):
    actions.delete_subscription(request.auth, _subscription(request, id))
    return Status(204, None)


@router.get(
    "/webhooks/{int:id}/secret",
    response={200: SecretOut, **ERRORS},
    summary="Reveal the signing secret",
)
def reveal_secret(request, id: int):
    return {"secret": actions.reveal_secret(request.auth, _subscription(request, id))}


@router.post(
    "/webhooks/{int:id}/rotate-secret",
    response={200: RotatedOut, **ERRORS},
    summary="Replace the signing secret",
    description="The new secret signs from the next attempt. With keep_previous_hours the "
    "old one signs beside it until previous_secret_until (several v1 signatures), so the "
    "receiver can switch without rejecting a delivery.",
)
def rotate_secret(request, id: int, payload: RotateIn | None = None):
    subscription = _subscription(request, id)
    hours = payload.keep_previous_hours if payload else 0
    secret = actions.rotate_secret(request.auth, subscription, keep_previous_hours=hours)
    return {"secret": secret, "previous_secret_until": subscription.previous_secret_until}


@router.post(
    "/webhooks/{int:id}/retire-previous-secret",
    response={200: SubscriptionOut, **ERRORS},
    summary="Stop signing with the secret a rotation kept",
)
def retire_previous_secret(request, id: int):
    subscription = _subscription(request, id)
    actions.retire_previous_secret(request.auth, subscription)
    return subscription


@router.post(
    "/webhooks/{int:id}/test", response={201: DeliveryOut, **ERRORS}, summary="Send a test event"
)
def send_test(request, id: int):
    """Queues a `webhook.test` event to this endpoint; follow it in its deliveries."""
    delivery = actions.send_test_event(request.auth, _subscription(request, id))
    return Status(201, delivery_out(delivery))


@router.get(
    "/webhooks/{int:id}/deliveries",
    response={200: DeliveryPage, **ERRORS},
    summary="List a webhook's deliveries",
)
def list_deliveries(request, id: int, filters: Query[DeliveryFilters]):
    """Newest first. Bodies and each attempt's request and response are in
    `GET /webhooks/{id}/deliveries/{delivery_id}`."""
    subscription = _subscription(request, id)
    rows = Delivery.objects.filter(workspace=request.auth.workspace, subscription=subscription)
    rows = rows.defer("body")
    if filters.status:
        rows = rows.filter(status=filters.status)
    before = id_cursor(filters.cursor, "before")
    if before is not None:
        rows = rows.filter(id__lt=before)
    rows = list(rows.order_by("-id")[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {
        "items": [delivery_out(d) for d in rows],
        "next_cursor": encode_cursor({"before": rows[-1].pk}) if more else None,
    }


@router.get(
    "/webhooks/{int:id}/deliveries/{int:delivery_id}",
    response={200: DeliveryDetailOut, **ERRORS},
    summary="Get a delivery",
)
def get_delivery(request, id: int, delivery_id: int):
    return delivery_detail_out(_delivery(request, id, delivery_id))


@router.post(
    "/webhooks/{int:id}/deliveries/{int:delivery_id}/redeliver",
    response={200: DeliveryDetailOut, **ERRORS},
    summary="Redeliver",
    description=(
        "Sends the delivery again at once — the same body and webhook-id, signed afresh — "
        "with a new retry schedule. A disabled endpoint answers 422 (enable it first)."
    ),
)
def redeliver(request, id: int, delivery_id: int):
    delivery = actions.redeliver(request.auth, _delivery(request, id, delivery_id))
    return delivery_detail_out(delivery)
