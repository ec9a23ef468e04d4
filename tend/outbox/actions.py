"""The outbox's one write path: queue a message, deliver it (the job's side), retry it.

Anything in Tend that sends email calls :func:`queue_email` inside its own transaction: the
message and its delivery job are written with the caller's other changes, or not at all.

At-least-once, and where a duplicate can still happen
-----------------------------------------------------
A message is marked sent in the same transaction that records the server's 250 to DATA. Two
windows remain in which the server has the message but Tend does not know it:

1. the worker dies (SIGKILL, power loss) after the server answered 250 to DATA and before
   that transaction committed;
2. the connection drops after the server accepted the data but before its reply reached us
   (we see a lost connection, a transient failure).

In both cases the message is sent again on the next attempt (in case 1 the log shows the
first attempt as *interrupted*). The copy carries the same ``Message-ID`` header, decided
when the message was queued, so receiving servers and mail clients that deduplicate by it
show it once. Nothing else sends twice: a job claims the message (``claimed_by``) before
talking to the server, and a second job finds it claimed or already sent and does nothing.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from tend.jobs.models import Job, JobStatus
from tend.jobs.registry import enqueue, enqueue_many
from tend.lib.errors import InvalidInput
from tend.outbox.composing import (
    build_headers,
    clean_address,
    clean_addresses,
    clean_extra_headers,
    clean_subject,
    new_message_id,
    sender_for,
)
from tend.outbox.delivery import FAILED, RETRY, SENT, Outcome, deliver
from tend.outbox.email_url import InvalidEmailUrl, configured_transport
from tend.outbox.models import PENDING, AttemptOutcome, DeliveryAttempt, Message, MessageStatus

log = logging.getLogger("tend.outbox")

DELIVER_JOB = "outbox.deliver"
# Pauses after each transient failure: 1 min, 5, 15, 1 h, 2 h, 4 h, 8 h, 12 h — 27 h in all,
# so a mail server down for a day still gets the message. Then the message fails.
RETRY_DELAYS = tuple(timedelta(minutes=m) for m in (1, 5, 15, 60, 120, 240, 480, 720))
# How long a job's claim on a message holds; longer than one attempt can last (delivery.py).
CLAIM_SECONDS = 600
# A pending message this far past its due time with no job queued or running lost its job.
STALLED_AFTER = timedelta(minutes=5)
STALLED_BATCH = 500
MAX_TEXT_CHARS = 1_000_000
MAX_KEY_CHARS = 200
INTERRUPTED_NOTE = (
    "The worker stopped during this attempt (killed or restarted) before recording the "
    "server's answer. The server may have accepted the message; it is sent again with the "
    "same Message-ID so receivers can discard the copy."
)


def job_key(message_id: int) -> str:
    return f"{DELIVER_JOB}:{message_id}"


def _enqueue_delivery(message: Message, due_at=None) -> None:
    enqueue(
        DELIVER_JOB,
        {"message_id": message.pk},
        workspace_id=message.workspace_id,
        due_at=due_at,
        unique_key=job_key(message.pk),
    )


def _clean_body(value, field: str, *, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be text")
    if required and not value.strip():
        raise InvalidInput(field, "is empty")
    if len(value) > MAX_TEXT_CHARS:
        raise InvalidInput(field, f"has {len(value):,} characters; at most {MAX_TEXT_CHARS:,}")
    return value


@transaction.atomic
def queue_email(
    workspace,
    *,
    to,
    subject: str,
    text: str,
    html: str | None = None,
    cc=(),
    reply_to: str | None = None,
    account_id: int | None = None,
    source: str = "",
    key: str | None = None,
    headers=None,
) -> Message:
    """Store a message and queue its delivery; return it.

    ``headers`` adds headers after the outbox's own (a ``{name: value}`` mapping, e.g.
    ``List-Unsubscribe``); they are stored with the message and sent on every attempt.

    ``key``, unique per workspace, makes the call idempotent: a caller that may run twice
    (a play step re-run after its worker was killed) passes a key derived from its own
    identity and gets the first message back instead of a second one. Raises
    :class:`InvalidInput` naming the field for a bad address, an empty subject or text.
    """
    if key is not None:
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_CHARS:
            raise InvalidInput("key", f"must be 1 to {MAX_KEY_CHARS} characters")
        existing = Message.objects.filter(workspace=workspace, key=key).first()
        if existing is not None:
            return existing
    to = clean_addresses(to, "to", required=True)
    cc = clean_addresses(cc, "cc", required=False)
    reply_to = clean_address(reply_to, "reply_to") if reply_to else ""
    subject = clean_subject(subject)
    text = _clean_body(text, "text", required=True)
    html = _clean_body(html, "html", required=False)
    extra = clean_extra_headers(headers)
    from_email = sender_for(workspace.name)
    message_id = new_message_id()
    now = timezone.now()
    fields = dict(
        workspace=workspace,
        key=key,
        source=(source or "")[:100],
        account_id=account_id,
        from_email=from_email,
        to=to,
        cc=cc,
        reply_to=reply_to,
        subject=subject,
        text=text,
        html=html,
        headers=build_headers(
            from_email=from_email,
            to=to,
            cc=cc,
            reply_to=reply_to,
            subject=subject,
            message_id=message_id,
            when=now,
            extra=extra,
        ),
        message_id=message_id,
        created_at=now,
        next_attempt_at=now,
    )
    try:
        with transaction.atomic():
            message = Message.objects.create(**fields)
    except IntegrityError:
        if key is None:
            raise
        # Another transaction queued the same key between our read and our insert.
        return Message.objects.get(workspace=workspace, key=key)
    _enqueue_delivery(message)
    return message


def queue_emails(workspace, items: list[dict]) -> list[Message | str]:
    """Many :func:`queue_email` calls at once (a play step advancing many runs): each item
    has the same keyword arguments, ``key`` required. Returns, in order, the message or the
    reason an item was refused. One insert for the new messages (a key already held keeps
    its first message), one read back, and one insert of their delivery jobs; callers hold
    a transaction."""
    now = timezone.now()
    from_email = sender_for(workspace.name)
    out: list[Message | str] = []
    fresh: dict[str, Message] = {}
    for item in items:
        key = item["key"]
        try:
            if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_CHARS:
                raise InvalidInput("key", f"must be 1 to {MAX_KEY_CHARS} characters")
            to = clean_addresses(item["to"], "to", required=True)
            cc = clean_addresses(item.get("cc", ()), "cc", required=False)
            reply_to = clean_address(item["reply_to"], "reply_to") if item.get("reply_to") else ""
            subject = clean_subject(item["subject"])
            text = _clean_body(item["text"], "text", required=True)
            html = _clean_body(item.get("html"), "html", required=False)
            extra = clean_extra_headers(item.get("headers"))
        except InvalidInput as exc:
            out.append(str(exc))
            continue
        message_id = new_message_id()
        message = Message(
            workspace=workspace,
            key=key,
            source=(item.get("source") or "")[:100],
            account_id=item.get("account_id"),
            from_email=from_email,
            to=to,
            cc=cc,
            reply_to=reply_to,
            subject=subject,
            text=text,
            html=html,
            headers=build_headers(
                from_email=from_email,
                to=to,
                cc=cc,
                reply_to=reply_to,
                subject=subject,
                message_id=message_id,
                when=now,
                extra=extra,
            ),  # fmt: skip
            message_id=message_id,
            created_at=now,
            next_attempt_at=now,
        )
        fresh.setdefault(key, message)
        out.append(message)
    if not fresh:
        return out
    keys = list(fresh)
    held = set(
        Message.objects.filter(workspace=workspace, key__in=keys).values_list("key", flat=True)
    )
    Message.objects.bulk_create(
        [m for k, m in fresh.items() if k not in held], ignore_conflicts=True
    )
    stored = {m.key: m for m in Message.objects.filter(workspace=workspace, key__in=keys)}
    new = [m for k, m in stored.items() if k not in held and m.message_id == fresh[k].message_id]
    enqueue_many(
        DELIVER_JOB,
        [({"message_id": m.pk}, job_key(m.pk)) for m in new],
        workspace_id=workspace.pk,
    )
    return [stored[m.key] if isinstance(m, Message) else m for m in out]


# --- Delivery (the job's side) ---------------------------------------------------------------


def deliver_message(message_id: int, *, claim: str, job_id: int | None = None) -> Message | None:
    """One delivery attempt for a pending, due message; None when there is nothing to do.

    Steps: claim the message (a conditional update; a job re-run after its worker died
    holds the same claim and may take it again); close any log row its dead predecessor
    left in progress; log a new attempt; talk to the transport with no transaction open;
    record the outcome, the message's new status and, for a retry, the next job — in one
    transaction, and only while the claim is still ours.
    """
    now = timezone.now()
    claimable = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now) | Q(claimed_by=claim)
    taken = (
        Message.objects.filter(pk=message_id, status__in=PENDING, next_attempt_at__lte=now)
        .filter(claimable)
        .update(
            claimed_by=claim,
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
            attempts=F("attempts") + 1,
        )
    )
    if not taken:
        return None
    message = Message.objects.get(pk=message_id)
    try:
        config = configured_transport()
        transport = config.describe()
    except InvalidEmailUrl as exc:
        config, transport = None, "EMAIL_URL"
        outcome = Outcome(RETRY, f"EMAIL_URL is not valid: {exc}")
    with transaction.atomic():
        DeliveryAttempt.objects.filter(message=message, outcome=AttemptOutcome.IN_PROGRESS).update(
            outcome=AttemptOutcome.INTERRUPTED, finished_at=now, reply=INTERRUPTED_NOTE
        )
        attempt = DeliveryAttempt.objects.create(
            workspace_id=message.workspace_id,
            message=message,
            number=message.attempts,
            started_at=now,
            transport=transport,
            job_id=job_id,
        )
    if config is not None:
        outcome = deliver(config, message)
    _record(message, attempt, outcome, claim)
    return message


def _record(message: Message, attempt: DeliveryAttempt, outcome: Outcome, claim: str) -> None:
    now = timezone.now()
    fields = {"claimed_by": "", "claimed_until": None, "reason": outcome.reply}
    attempt_outcome = {
        SENT: AttemptOutcome.SENT,
        FAILED: AttemptOutcome.FAILED,
        RETRY: AttemptOutcome.RETRY,
    }[outcome.result]
    next_due = None
    if outcome.result == SENT:
        fields.update(status=MessageStatus.SENT, sent_at=now, next_attempt_at=None, retries=0)
    elif outcome.result == FAILED:
        fields.update(status=MessageStatus.FAILED, failed_at=now, next_attempt_at=None)
    elif message.retries >= len(RETRY_DELAYS):
        hours = (now - message.created_at).total_seconds() / 3600
        fields.update(
            status=MessageStatus.FAILED,
            failed_at=now,
            next_attempt_at=None,
            reason=f"Gave up after {message.attempts} attempts over {hours:.0f} h. Last: {outcome.reply}",
        )
        attempt_outcome = AttemptOutcome.FAILED
    else:
        next_due = now + RETRY_DELAYS[message.retries]
        fields.update(
            status=MessageStatus.RETRYING, next_attempt_at=next_due, retries=message.retries + 1
        )
    with transaction.atomic():
        DeliveryAttempt.objects.filter(pk=attempt.pk).update(
            outcome=attempt_outcome, finished_at=now, smtp_code=outcome.code, reply=outcome.reply
        )
        updated = Message.objects.filter(pk=message.pk, claimed_by=claim).update(**fields)
        if updated and next_due is not None:
            _enqueue_delivery(message, due_at=next_due)
    if not updated:
        log.warning("message %s: claim %s lost before the outcome was recorded", message.pk, claim)
        return
    for name, value in fields.items():
        setattr(message, name, value)
    log.info("message %s: %s (%s)", message.pk, message.status, outcome.reply.split("\n")[0])


# --- On a person's behalf ---------------------------------------------------------------------


@transaction.atomic
def retry_message(actor, message: Message) -> Message:
    """ "Retry now": a failed or retrying message is due at once, with a fresh retry schedule.

    The last reason stays until the next attempt replaces it, so it remains visible.
    """
    if not message.can_retry:
        raise InvalidInput(
            "status",
            f"Only failed or retrying messages can be retried; this one is {message.get_status_display().lower()}.",
        )
    now = timezone.now()
    updated = (
        Message.objects.filter(
            pk=message.pk, status__in=[MessageStatus.FAILED, MessageStatus.RETRYING]
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(status=MessageStatus.QUEUED, next_attempt_at=now, retries=0, failed_at=None)
    )
    if updated != 1:
        raise InvalidInput(
            "status", "This message is being sent or changed right now; reload the page."
        )
    message.refresh_from_db()
    _enqueue_delivery(message, due_at=now)
    log.info("message %s: retry requested by %s", message.pk, actor.label)
    return message


def send_test_email(actor) -> Message:
    """A short message to the member asking, to check that EMAIL_URL delivers."""
    if actor.member is None:
        raise InvalidInput(
            "to", "Only a member can send a test message (it goes to their address)."
        )
    address = actor.member.user.email
    text = (
        f"This is a test message from Tend, sent by {address} from Settings → Outbox of the "
        f"{actor.workspace.name} workspace.\n\nIf you are reading it, email delivery works.\n"
    )
    return queue_email(
        actor.workspace,
        to=[address],
        subject=f"Tend test message for {actor.workspace.name}",
        text=text,
        source="outbox.test",
    )


def requeue_stalled(now=None) -> int:
    """Queue delivery again for pending messages whose job is gone (it failed on a database
    error five times, or was deleted); returns how many. Runs across workspaces."""
    now = now or timezone.now()
    stalled = (
        Message.objects.pending()
        .filter(next_attempt_at__lt=now - STALLED_AFTER)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    )
    requeued = 0
    after_id = 0
    while True:
        batch = list(stalled.filter(id__gt=after_id).order_by("id")[:STALLED_BATCH])
        if not batch:
            return requeued
        after_id = batch[-1].pk
        keys = {job_key(m.pk): m for m in batch}
        alive = set(
            Job.objects.filter(
                unique_key__in=list(keys), status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
            ).values_list("unique_key", flat=True)
        )
        for key, message in keys.items():
            if key not in alive:
                with transaction.atomic():
                    _enqueue_delivery(message)
                requeued += 1
