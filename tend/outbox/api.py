"""``/outbox``: the workspace's email and delivery log, for tokens with the admin scope
(other scopes 403; another workspace's ids 404)."""

import datetime
from typing import Literal

from django.conf import settings
from ninja import Field, Query, Router, Schema

from tend.lib.api_schemas import ERRORS
from tend.lib.cursor import encode_cursor, id_cursor
from tend.outbox.actions import retry_message
from tend.outbox.models import Message
from tend.workspaces.access import ADMIN, get_for

router = Router(tags=["outbox"])

StatusName = Literal["queued", "retrying", "sent", "failed"]
OutcomeName = Literal["in_progress", "sent", "retry", "failed", "interrupted"]


class MessageOut(Schema):
    id: int
    status: StatusName
    reason: str = Field(..., description="Why it is in its status: the last reply or error.")
    from_email: str
    to: list[str]
    cc: list[str]
    reply_to: str
    subject: str
    message_id: str = Field(..., description="The Message-ID header: the same on every attempt.")
    account_id: int | None
    source: str
    key: str | None
    attempts: int
    next_attempt_at: datetime.datetime | None
    created_at: datetime.datetime
    sent_at: datetime.datetime | None
    failed_at: datetime.datetime | None


class AttemptOut(Schema):
    number: int
    started_at: datetime.datetime
    finished_at: datetime.datetime | None
    outcome: OutcomeName
    smtp_code: int | None
    reply: str
    transport: str


class MessageDetailOut(MessageOut):
    text: str
    html: str
    headers: list[tuple[str, str]]
    delivery_log: list[AttemptOut]


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class MessageFilters(Schema):
    limit: int = Field(settings.TEND_PAGE_SIZE_DEFAULT, ge=1, le=settings.TEND_PAGE_SIZE_MAX)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")
    status: StatusName | None = None


SUMMARY_FIELDS = [name for name in MessageOut.model_fields if name != "id"]


def message_out(message: Message) -> dict:
    return {"id": message.pk, **{name: getattr(message, name) for name in SUMMARY_FIELDS}}


def message_detail_out(message: Message) -> dict:
    log = message.attempt_log.order_by("number")
    return {
        **message_out(message),
        "text": message.text,
        "html": message.html,
        "headers": [tuple(pair) for pair in message.headers],
        "delivery_log": [{name: getattr(a, name) for name in AttemptOut.model_fields} for a in log],
    }


@router.get("/outbox", response={200: MessagePage, **ERRORS}, summary="List email in the outbox")
def list_messages(request, filters: Query[MessageFilters]):
    """Newest first. Text and HTML bodies and the delivery log are in `GET /outbox/{id}`."""
    actor = request.auth
    actor.require(ADMIN)
    messages = Message.objects.filter(workspace=actor.workspace).defer("text", "html", "headers")
    if filters.status:
        messages = messages.filter(status=filters.status)
    before = id_cursor(filters.cursor, "before")
    if before is not None:
        messages = messages.filter(id__lt=before)
    rows = list(messages.order_by("-id")[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {
        "items": [message_out(m) for m in rows],
        "next_cursor": encode_cursor({"before": rows[-1].pk}) if more else None,
    }


@router.get("/outbox/{int:id}", response={200: MessageDetailOut, **ERRORS}, summary="Get a message")
def get_message(request, id: int):
    """The message as sent (headers, text, HTML) and every delivery attempt."""
    return message_detail_out(get_for(request.auth, Message, ADMIN, pk=id))


@router.post(
    "/outbox/{int:id}/retry",
    response={200: MessageDetailOut, **ERRORS},
    summary="Retry a message now",
    description=(
        "A failed or retrying message is queued for an attempt at once, with a fresh retry "
        "schedule. Other statuses answer 422."
    ),
)
def retry(request, id: int):
    actor = request.auth
    message = retry_message(actor, get_for(actor, Message, ADMIN, pk=id))
    return message_detail_out(message)
