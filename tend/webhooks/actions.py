"""The one write path of outgoing webhooks (docs/webhooks.md).

* Subscriptions: create (the secret is generated and returned once), update, pause and
  resume, delete, rotate (optionally keeping the old secret signing for a while) or reveal
  the secret — admins only.
* ``fan_out``: the events app hands over new events (in its transaction); each active
  subscription that wants the type gets a ``Delivery`` holding the exact body, and a job.
* ``deliver``: one attempt, through ``tend.lib.outgoing.send`` (hard deadline, SSRF rules,
  no redirects), signed as Standard Webhooks 1.0, classified: delivered; retried on the
  Standard Webhooks schedule (``retry_delay``, ~27 h); failed for good; or 410 — the
  subscription is disabled and its admins told (an in-app notification each, the state on
  the page and in the API, and a warning in the log).
* On a person's behalf: redeliver, send a test event.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from tend.events import registry
from tend.jobs.registry import enqueue, enqueue_many
from tend.lib.errors import InvalidInput
from tend.lib.outgoing import (
    Outcome,
    Result,
    check_url,
    generate_secret,
    new_message_id,
    retry_delay,
    send,
    signature_headers,
)
from tend.lib.outgoing.signing import secret_key
from tend.lib.sealing import CannotUnseal
from tend.notifications.actions import notify
from tend.webhooks.models import (
    PENDING,
    TEST_EVENT,
    Attempt,
    AttemptOutcome,
    Delivery,
    DeliveryStatus,
    Subscription,
    SubscriptionStatus,
)
from tend.workspaces.access import ADMIN, Actor
from tend.workspaces.models import Member, Seat

log = logging.getLogger("tend.webhooks")

DELIVER_JOB = "webhooks.deliver"
CLAIM_SECONDS = 120  # comfortably longer than one attempt's deadline
STALLED_AFTER = timedelta(minutes=5)
STALLED_BATCH = 500
MAX_SUBSCRIPTIONS = 50
MAX_DESCRIPTION = 200
RESPONSE_KEPT_CHARS = 2000
INTERRUPTED_NOTE = "the worker stopped during this attempt; the delivery was tried again"


# --- Input ------------------------------------------------------------------------------------


def clean_url(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("url", "is required")
    url = value.strip()
    refusal = check_url(url)
    if refusal:
        raise InvalidInput("url", refusal)
    return url


def clean_event_types(value) -> list[str]:
    if not isinstance(value, list | tuple) or not value:
        raise InvalidInput("event_types", "choose at least one event type")
    known = registry.type_keys()
    chosen = []
    for item in value:
        if not isinstance(item, str) or item not in known:
            raise InvalidInput(
                "event_types", f"{item!r} is not an event type; see GET /webhooks/event-types"
            )
        if item not in chosen:
            chosen.append(item)
    return sorted(chosen)


def clean_description(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput("description", "must be text")
    value = value.strip()
    if len(value) > MAX_DESCRIPTION:
        raise InvalidInput("description", f"is longer than {MAX_DESCRIPTION} characters")
    return value


def clean_secret(value) -> str:
    try:
        secret_key(value)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("secret", str(exc)) from None
    return value


# --- Subscriptions ----------------------------------------------------------------------------


@transaction.atomic
def create_subscription(actor: Actor, data: dict) -> tuple[Subscription, str]:
    """A new active subscription and its secret (shown once; admins may reveal it later)."""
    actor.require(ADMIN)
    workspace = actor.workspace
    if Subscription.objects.filter(workspace=workspace).count() >= MAX_SUBSCRIPTIONS:
        raise InvalidInput("url", f"a workspace has at most {MAX_SUBSCRIPTIONS} webhooks")
    url = clean_url(data.get("url"))
    event_types = clean_event_types(data.get("event_types"))
    description = clean_description(data.get("description"))
    secret = clean_secret(data["secret"]) if data.get("secret") else generate_secret()
    subscription = Subscription(
        workspace=workspace,
        url=url,
        description=description,
        event_types=event_types,
        created_by=actor.member,
    )
    subscription.secret = secret
    subscription.save()
    log.info("webhook %s created by %s for %s", subscription.pk, actor.label, url)
    return subscription, secret


@transaction.atomic
def update_subscription(actor: Actor, subscription: Subscription, data: dict) -> Subscription:
    """Change url, event_types, description or status (``active`` re-enables a disabled or
    paused endpoint and queues what waited; ``paused`` holds deliveries back)."""
    actor.require(ADMIN)
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if "url" in data:
        subscription.url = clean_url(data["url"])
    if "event_types" in data:
        subscription.event_types = clean_event_types(data["event_types"])
    if "description" in data:
        subscription.description = clean_description(data["description"])
    resume = False
    if "status" in data and data["status"] != subscription.status:
        status = data["status"]
        if status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED):
            raise InvalidInput("status", "choose active or paused (disabled is set by a 410)")
        resume = status == SubscriptionStatus.ACTIVE
        subscription.status = status
        subscription.disabled_reason = ""
        subscription.disabled_at = None
    subscription.updated_at = timezone.now()
    subscription.save()
    if resume:
        _queue_waiting(subscription)
    return subscription


def _queue_waiting(subscription: Subscription) -> None:
    """After a resume: pending deliveries go out now."""
    now = timezone.now()
    waiting = Delivery.objects.filter(subscription=subscription, status__in=PENDING)
    waiting.update(next_attempt_at=now)
    for delivery_id in waiting.values_list("id", flat=True):
        _enqueue_attempt(subscription.workspace_id, delivery_id, now)


@transaction.atomic
def delete_subscription(actor: Actor, subscription: Subscription) -> None:
    actor.require(ADMIN)
    log.info("webhook %s (%s) deleted by %s", subscription.pk, subscription.url, actor.label)
    subscription.delete()


# How long the old secret may keep signing after a rotation: the API's and the form's bound.
MAX_OVERLAP_HOURS = 7 * 24


@transaction.atomic
def rotate_secret(actor: Actor, subscription: Subscription, *, keep_previous_hours: int = 0) -> str:
    """A new secret signs from the next attempt on. With ``keep_previous_hours`` the old one
    keeps signing beside it for that long (Standard Webhooks' several ``v1,`` signatures), so
    a receiver can switch secrets without rejecting a delivery; 0 stops the old one at once."""
    actor.require(ADMIN)
    if (
        isinstance(keep_previous_hours, bool)
        or not isinstance(keep_previous_hours, int)
        or not 0 <= keep_previous_hours <= MAX_OVERLAP_HOURS
    ):
        raise InvalidInput(
            "keep_previous_hours", f"is a whole number of hours from 0 to {MAX_OVERLAP_HOURS}"
        )
    now = timezone.now()
    if keep_previous_hours:
        subscription.previous_secret_sealed = subscription.secret_sealed
        subscription.previous_secret_until = now + timedelta(hours=keep_previous_hours)
    else:
        subscription.previous_secret_sealed = ""
        subscription.previous_secret_until = None
    secret = generate_secret()
    subscription.secret = secret
    subscription.updated_at = now
    subscription.save(
        update_fields=[
            "secret_sealed",
            "previous_secret_sealed",
            "previous_secret_until",
            "updated_at",
        ]
    )
    log.info(
        "webhook %s: secret rotated by %s (the old one signs %s)",
        subscription.pk,
        actor.label,
        f"for {keep_previous_hours} more hours" if keep_previous_hours else "no more",
    )
    return secret


@transaction.atomic
def retire_previous_secret(actor: Actor, subscription: Subscription) -> None:
    """Stop signing with the secret a rotation kept (the receiver has switched over)."""
    actor.require(ADMIN)
    subscription.previous_secret_sealed = ""
    subscription.previous_secret_until = None
    subscription.updated_at = timezone.now()
    subscription.save(
        update_fields=["previous_secret_sealed", "previous_secret_until", "updated_at"]
    )
    log.info("webhook %s: previous secret retired by %s", subscription.pk, actor.label)


def signing_secrets(subscription: Subscription, now) -> list[str]:
    """The secrets that sign an attempt now, newest first. Raises ``CannotUnseal`` for the
    current secret only: a previous one that cannot be decrypted is left out (logged), since
    the current signature is the one every receiver will move to."""
    secrets = [subscription.secret]
    if subscription.previous_secret_valid(now):
        try:
            secrets.append(subscription.previous_secret)
        except CannotUnseal as exc:
            log.warning("webhook %s: previous secret not usable (%s)", subscription.pk, exc)
    return secrets


def reveal_secret(actor: Actor, subscription: Subscription) -> str:
    actor.require(ADMIN)
    try:
        secret = subscription.secret
    except CannotUnseal as exc:
        raise InvalidInput("secret", f"cannot be decrypted ({exc}); rotate it") from None
    log.info("webhook %s: secret revealed to %s", subscription.pk, actor.label)
    return secret


# --- From events to deliveries -----------------------------------------------------------------


def subscribed_types(workspace_id: int) -> set[str]:
    """The event types some active subscription of the workspace wants (one query)."""
    wanted: set[str] = set()
    for types in Subscription.objects.filter(
        workspace_id=workspace_id, status=SubscriptionStatus.ACTIVE
    ).values_list("event_types", flat=True):
        wanted.update(types)
    return wanted


def payload(event_type: str, timestamp, data: dict) -> bytes:
    """The body every receiver gets: Standard Webhooks' ``{type, timestamp, data}``."""
    return orjson.dumps({"type": event_type, "timestamp": timestamp.isoformat(), "data": data})


def fan_out(events) -> list[Delivery]:
    """Inside the events app's dispatch transaction: one delivery (and job) per event and
    active subscription that wants it."""
    by_workspace = defaultdict(list)
    for event in events:
        by_workspace[event.workspace_id].append(event)
    created: list[Delivery] = []
    for workspace_id, batch in by_workspace.items():
        subscriptions = list(
            Subscription.objects.filter(workspace_id=workspace_id, status=SubscriptionStatus.ACTIVE)
        )
        now = timezone.now()
        rows = [
            Delivery(
                workspace_id=workspace_id,
                subscription=subscription,
                event=event,
                event_type=event.type,
                message_id=new_message_id(),
                body=payload(event.type, event.occurred_at, event.data),
                next_attempt_at=now,
                created_at=now,
            )
            for event in batch
            for subscription in subscriptions
            if subscription.wants(event.type)
        ]
        rows = Delivery.objects.bulk_create(rows, batch_size=500)
        # One INSERT for the new deliveries' jobs, keyed as the others.
        enqueue_many(
            DELIVER_JOB,
            [({"delivery_id": d.pk}, f"{DELIVER_JOB}:{d.pk}") for d in rows],
            workspace_id=workspace_id,
            due_at=now,
        )
        created += rows
    return created


def _enqueue_attempt(workspace_id: int, delivery_id: int, due_at) -> None:
    enqueue(
        DELIVER_JOB,
        {"delivery_id": delivery_id},
        workspace_id=workspace_id,
        due_at=due_at,
        unique_key=f"{DELIVER_JOB}:{delivery_id}",
    )


# --- One attempt ------------------------------------------------------------------------------


def deliver(delivery_id: int, *, claim: str) -> Delivery | None:
    """One attempt for a pending, due delivery of an active subscription; None when there is
    nothing to do (delivered, not due, claimed by another job, endpoint paused).

    Steps: claim the delivery (a conditional update; a job re-run after its worker died
    holds the same claim); close any attempt its dead predecessor left in progress; log the
    attempt with the request headers; send with no transaction open; record the outcome —
    and for a retry the next job, for a 410 the disabled endpoint — in one transaction, only
    while the claim is still ours.
    """
    now = timezone.now()
    claimable = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now) | Q(claimed_by=claim)
    base = Delivery.objects.filter(pk=delivery_id, status__in=PENDING, next_attempt_at__lte=now)
    disabled = base.filter(subscription__status=SubscriptionStatus.DISABLED).filter(claimable)
    if disabled.update(
        status=DeliveryStatus.FAILED,
        failed_at=now,
        next_attempt_at=None,
        reason="not sent: the endpoint is disabled (it answered 410 Gone); enable it and redeliver",
    ):
        return None
    taken = (
        base.filter(subscription__status=SubscriptionStatus.ACTIVE)
        .filter(claimable)
        .update(
            claimed_by=claim,
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
            attempts=F("attempts") + 1,
        )
    )
    if not taken:
        return None
    delivery = Delivery.objects.select_related("subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    body = bytes(delivery.body)
    try:
        signing = signing_secrets(subscription, now)
    except CannotUnseal as exc:
        # Configuration an operator can fix (TEND_SECRETS_KEYS lost a key): retried on the
        # schedule, like a receiver that is down, so fixing it delivers the backlog.
        signing = None
        unsealable = Result(
            outcome=Outcome.RETRY,
            reason=f"not sent: the signing secret cannot be decrypted ({exc}); restore the key or rotate the secret",
            elapsed=0.0,
        )
    headers = {"Content-Type": "application/json"}
    if signing is not None:
        headers.update(signature_headers(signing, delivery.message_id, body))
    with transaction.atomic():
        Attempt.objects.filter(delivery=delivery, outcome=AttemptOutcome.IN_PROGRESS).update(
            outcome=AttemptOutcome.INTERRUPTED, finished_at=now, reason=INTERRUPTED_NOTE
        )
        attempt = Attempt.objects.create(
            workspace_id=delivery.workspace_id,
            delivery=delivery,
            number=delivery.attempts,
            url=subscription.url,
            request_headers=headers,
            started_at=now,
        )
    if signing is None:
        result = unsealable
    else:
        result = send(
            "POST",
            subscription.url,
            body=body,
            headers=headers,
            deadline_seconds=settings.TEND_WEBHOOK_DEADLINE_SECONDS,
        )
    _record(delivery, attempt, result, claim)
    return delivery


def _record(delivery: Delivery, attempt: Attempt, result, claim: str) -> None:
    now = timezone.now()
    fields = {
        "claimed_by": "",
        "claimed_until": None,
        "reason": result.reason[:1000],
        "last_status_code": result.status_code,
    }
    outcome = {
        Outcome.DELIVERED: AttemptOutcome.DELIVERED,
        Outcome.RETRY: AttemptOutcome.RETRY,
        Outcome.PERMANENT: AttemptOutcome.FAILED,
        Outcome.GONE: AttemptOutcome.GONE,
    }[result.outcome]
    next_due = None
    gone = result.outcome is Outcome.GONE
    if result.outcome is Outcome.DELIVERED:
        fields.update(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif result.outcome is Outcome.RETRY:
        wait = retry_delay(delivery.retries + 1, retry_after=result.retry_after)
        if wait is None:
            hours = (now - delivery.created_at).total_seconds() / 3600
            fields.update(
                status=DeliveryStatus.FAILED,
                failed_at=now,
                next_attempt_at=None,
                reason=f"gave up after {delivery.attempts} attempts over {hours:.0f} h; last: {result.reason}"[
                    :1000
                ],
            )
            outcome = AttemptOutcome.FAILED
        else:
            next_due = now + wait
            fields.update(
                status=DeliveryStatus.RETRYING,
                next_attempt_at=next_due,
                retries=delivery.retries + 1,
            )
    else:
        fields.update(status=DeliveryStatus.FAILED, failed_at=now, next_attempt_at=None)
    with transaction.atomic():
        Attempt.objects.filter(pk=attempt.pk).update(
            outcome=outcome,
            finished_at=now,
            duration_ms=round(result.elapsed * 1000),
            status_code=result.status_code,
            reason=result.reason[:1000],
            response_body=result.response_text[:RESPONSE_KEPT_CHARS],
            address=result.address or "",
        )
        updated = Delivery.objects.filter(pk=delivery.pk, claimed_by=claim).update(**fields)
        if updated and next_due is not None:
            _enqueue_attempt(delivery.workspace_id, delivery.pk, next_due)
        if updated and gone:
            _disable(delivery.subscription, result.reason, now)
    if not updated:
        log.warning(
            "webhook delivery %s: claim %s lost before the outcome was recorded", delivery.pk, claim
        )
        return
    for name, value in fields.items():
        setattr(delivery, name, value)
    log.info("webhook delivery %s: %s (%s)", delivery.pk, delivery.status, result.reason)


def _disable(subscription: Subscription, reason: str, now) -> None:
    """A 410: the receiver asked us to stop. The endpoint is disabled (shown on its page and
    in the API), its waiting deliveries fail with the reason, and the log says so."""
    disabled = Subscription.objects.filter(
        pk=subscription.pk, status=SubscriptionStatus.ACTIVE
    ).update(
        status=SubscriptionStatus.DISABLED,
        disabled_reason=f"The endpoint answered {reason}. Nothing more is sent until an admin enables it.",
        disabled_at=now,
        updated_at=now,
    )
    Delivery.objects.filter(subscription=subscription, status__in=PENDING).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    ).update(
        status=DeliveryStatus.FAILED,
        failed_at=now,
        next_attempt_at=None,
        reason="not sent: the endpoint was disabled after it answered 410 Gone",
    )
    if disabled:
        log.warning(
            "webhook %s of workspace %s disabled: %s answered %s",
            subscription.pk,
            subscription.workspace_id,
            subscription.url,
            reason,
        )
        _tell_admins(subscription, reason, now)


def _tell_admins(subscription: Subscription, reason: str, now) -> None:
    """An in-app notification to each active admin, once per disabling (keyed by its time)."""
    admins = Member.objects.filter(
        workspace_id=subscription.workspace_id,
        seat=Seat.ADMIN,
        is_active=True,
        user__is_active=True,
    )
    for admin in admins:
        notify(
            admin,
            kind="webhook",
            title=f"Webhook disabled: {subscription.url}",
            key=f"webhook-disabled:{subscription.pk}:{now.isoformat()}",
            url=f"/settings/webhooks/{subscription.pk}/",
            cause=f"The endpoint answered {reason}. Nothing more is sent until an admin enables it.",
            now=now,
        )


# --- On a person's behalf ---------------------------------------------------------------------


@transaction.atomic
def redeliver(actor: Actor, delivery: Delivery) -> Delivery:
    """Send a delivery again now — the same body and ``webhook-id`` (receivers drop a
    duplicate), freshly signed — with a fresh retry schedule. Its log is kept."""
    actor.require(ADMIN)
    subscription = delivery.subscription
    if subscription.status == SubscriptionStatus.DISABLED:
        raise InvalidInput("status", "the endpoint is disabled (it answered 410); enable it first")
    now = timezone.now()
    updated = (
        Delivery.objects.filter(pk=delivery.pk)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            retries=0,
            failed_at=None,
            delivered_at=None,
        )
    )
    if updated != 1:
        raise InvalidInput("status", "this delivery is being sent right now; reload the page")
    delivery.refresh_from_db()
    _enqueue_attempt(delivery.workspace_id, delivery.pk, now)
    log.info("webhook delivery %s: redelivery requested by %s", delivery.pk, actor.label)
    return delivery


@transaction.atomic
def send_test_event(actor: Actor, subscription: Subscription) -> Delivery:
    """Queue a ``webhook.test`` event to this endpoint (whatever types it subscribes to)."""
    actor.require(ADMIN)
    if subscription.status == SubscriptionStatus.DISABLED:
        raise InvalidInput("status", "the endpoint is disabled (it answered 410); enable it first")
    now = timezone.now()
    data = {
        "message": "A test event from Tend: if your endpoint verified this signature, it works.",
        "workspace": {"id": actor.workspace.pk, "name": actor.workspace.name},
        "webhook": {"id": subscription.pk},
        "sent_by": actor.label,
    }
    delivery = Delivery.objects.create(
        workspace=actor.workspace,
        subscription=subscription,
        event_type=TEST_EVENT,
        message_id=new_message_id(),
        body=payload(TEST_EVENT, now, data),
        next_attempt_at=now,
        created_at=now,
    )
    _enqueue_attempt(delivery.workspace_id, delivery.pk, now)
    return delivery


# --- Housekeeping -----------------------------------------------------------------------------


def requeue_stalled(now=None) -> int:
    """Queue an attempt again for due deliveries of active endpoints whose job is gone;
    returns how many. Runs across workspaces."""
    now = now or timezone.now()
    stalled = (
        Delivery.objects.filter(
            status__in=PENDING,
            next_attempt_at__lt=now - STALLED_AFTER,
            subscription__status=SubscriptionStatus.ACTIVE,
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("id")
    )
    count = 0
    after = 0
    while True:
        batch = list(stalled.filter(id__gt=after).values_list("id", "workspace_id")[:STALLED_BATCH])
        if not batch:
            break
        with transaction.atomic():
            for delivery_id, workspace_id in batch:
                _enqueue_attempt(workspace_id, delivery_id, now)
        count += len(batch)
        after = batch[-1][0]
    if count:
        log.warning("queued %s stalled webhook deliveries again", count)
    return count


def purge(older_than: timedelta = timedelta(days=30), now=None) -> int:
    """Delete finished deliveries (and their attempts) older than ``older_than``."""
    cutoff = (now or timezone.now()) - older_than
    deleted, _ = Delivery.objects.filter(
        status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.FAILED], created_at__lt=cutoff
    ).delete()
    return deleted
