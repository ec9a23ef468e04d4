"""``/touchpoints``: list, get, log, change and delete touchpoints; ``/touchpoint-types``:
the types a touchpoint may have (built-in and the workspace's own).

Reads need the read scope; logging one the write scope (a contributor's rights), changing
and deleting what ``tend.work.queries.can_change_touchpoint`` says. Lists are paged by
cursor, newest id last; every 4xx answer names the field at fault.
"""

import datetime
from typing import Literal

from django.conf import settings
from django.http import FileResponse, Http404
from ninja import Field, File, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from tend.accounts.schemas import Strict
from tend.lib.cursor import encode_cursor, id_cursor
from tend.lib.errors import InvalidInput
from tend.work import actions
from tend.work.api import (
    ERRORS,
    PersonOut,
    PriorityName,
    TaskAccountOut,
    _account,
    _member,
    _person,
)
from tend.work.models import Touchpoint, TouchpointAttachment
from tend.work.queries import can_change_touchpoint, get_touchpoint, touchpoint_people
from tend.workspaces.access import READ, Actor

router = Router(tags=["touchpoints"])

SentimentName = Literal["positive", "neutral", "negative"]


class ContactOut(Schema):
    id: int
    name: str
    email: str


class AttachmentOut(Schema):
    id: int
    file_name: str
    size: int = Field(..., description="Bytes.")
    content_type: str = Field(..., description="As the uploader's client named it.")
    url: str = Field(..., description="The API path that downloads it.")
    created_at: datetime.datetime


class TouchpointOut(Schema):
    id: int
    account: TaskAccountOut
    type: str = Field(
        ...,
        description="A built-in type (note, meeting, call, email, qbr, "
        "escalation) or a key from /touchpoint-types.",
    )
    occurred_at: datetime.datetime
    subject: str
    body: str = Field(..., description="Markdown.")
    sentiment: SentimentName
    author: PersonOut | None
    author_name: str
    members: list[PersonOut] = Field(..., description="Teammates who took part.")
    contacts: list[ContactOut] = Field(..., description="Customer contacts who took part.")
    mentions: list[PersonOut] = Field(..., description="Members @mentioned in the body.")
    follow_up_task_id: int | None
    attachments: list[AttachmentOut]
    play_id: int | None
    source: str
    can_change: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime


class TouchpointPage(Schema):
    items: list[TouchpointOut]
    next_cursor: str | None


class FollowUpIn(Strict):
    title: str = Field(..., min_length=1, max_length=actions.TITLE_MAX)
    description: str = Field("", max_length=actions.DESCRIPTION_MAX)
    due_date: datetime.date | None = Field(None, description="Default: today.")
    priority: PriorityName = "normal"
    assignee: int | str | None = Field(
        None, description="A member id or email; default: whoever logs the touchpoint."
    )


class TouchpointIn(Strict):
    account_id: int | None = Field(None, description="The account's Tend id …")
    account_external_id: str | None = Field(None, description="… or its external id.")
    type: str = Field("note", min_length=1, max_length=40)
    occurred_at: datetime.datetime | None = Field(None, description="Default: now.")
    subject: str = Field(..., min_length=1, max_length=actions.SUBJECT_MAX)
    body: str = Field("", max_length=actions.BODY_MAX, description="Markdown.")
    sentiment: SentimentName = "neutral"
    members: list[int | str] = Field(
        [], max_length=actions.PARTICIPANTS_MAX, description="Member ids or emails."
    )
    contacts: list[int] = Field([], max_length=actions.PARTICIPANTS_MAX, description="Contact ids.")
    follow_up: FollowUpIn | None = Field(None, description="A task to create with it.")


class TouchpointPatch(Strict):
    type: str | None = Field(None, min_length=1, max_length=40)
    occurred_at: datetime.datetime | None = None
    subject: str | None = Field(None, min_length=1, max_length=actions.SUBJECT_MAX)
    body: str | None = Field(None, max_length=actions.BODY_MAX)
    sentiment: SentimentName | None = None
    members: list[int | str] | None = Field(None, max_length=actions.PARTICIPANTS_MAX)
    contacts: list[int] | None = Field(None, max_length=actions.PARTICIPANTS_MAX)


class TouchpointFilters(Schema):
    limit: int = Field(settings.TEND_PAGE_SIZE_DEFAULT, ge=1, le=settings.TEND_PAGE_SIZE_MAX)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")
    account_id: int | None = None
    account_external_id: str | None = None
    type: str | None = None
    occurred_after: datetime.datetime | None = None
    occurred_before: datetime.datetime | None = None


class TypeOut(Schema):
    key: str
    name: str
    built_in: bool


class TypeIn(Strict):
    name: str = Field(..., min_length=1, max_length=actions.TYPE_NAME_MAX)
    key: str = Field("", max_length=40, description="Default: the name, lower-cased with _.")


def touchpoint_out(touchpoint: Touchpoint, actor: Actor) -> dict:
    account = touchpoint.account
    return {
        "id": touchpoint.pk,
        "account": {"id": account.pk, "external_id": account.external_id, "name": account.name},
        "type": touchpoint.type,
        "occurred_at": touchpoint.occurred_at,
        "subject": touchpoint.subject,
        "body": touchpoint.body,
        "sentiment": touchpoint.sentiment,
        "author": _person(touchpoint.author),
        "author_name": touchpoint.author_name,
        "members": [_person(m) for m in touchpoint.members.all()],
        "contacts": [
            {"id": c.pk, "name": c.name, "email": c.email} for c in touchpoint.contacts.all()
        ],
        "mentions": [_person(m.member) for m in touchpoint.mentions.all()],
        "follow_up_task_id": touchpoint.follow_up_task_id,
        "attachments": [attachment_out(a) for a in touchpoint.attachments.all()],
        "play_id": touchpoint.play_id,
        "source": touchpoint.source,
        "can_change": can_change_touchpoint(actor, touchpoint),
        "created_at": touchpoint.created_at,
        "updated_at": touchpoint.updated_at,
    }


def attachment_out(attachment: TouchpointAttachment) -> dict:
    return {
        "id": attachment.pk,
        "file_name": attachment.file_name,
        "size": attachment.size,
        "content_type": attachment.content_type,
        "url": f"/api/v1/touchpoints/{attachment.touchpoint_id}/attachments/{attachment.pk}",
        "created_at": attachment.created_at,
    }


def _one(actor: Actor, pk: int) -> dict:
    queryset = touchpoint_people(Touchpoint.objects.all())
    return touchpoint_out(get_touchpoint(actor, pk, queryset=queryset), actor)


def _members(actor: Actor, values) -> list[int]:
    return [_member(actor, value, "members").pk for value in values]


@router.get("/touchpoints", response={200: TouchpointPage, **ERRORS}, summary="List touchpoints")
def list_touchpoints(request, filters: Query[TouchpointFilters]):
    """Touchpoints of the workspace by id, filtered by account, type and time."""
    actor = request.auth
    actor.require(READ)
    rows = touchpoint_people(Touchpoint.objects.filter(workspace=actor.workspace))
    if filters.account_id is not None:
        rows = rows.filter(account_id=filters.account_id)
    if filters.account_external_id is not None:
        rows = rows.filter(account__external_id=filters.account_external_id)
    if filters.type:
        rows = rows.filter(type=filters.type)
    if filters.occurred_after:
        rows = rows.filter(occurred_at__gte=filters.occurred_after)
    if filters.occurred_before:
        rows = rows.filter(occurred_at__lt=filters.occurred_before)
    after = id_cursor(filters.cursor)
    if after is not None:
        rows = rows.filter(id__gt=after)
    page = list(rows.order_by("id")[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    return {
        "items": [touchpoint_out(t, actor) for t in page],
        "next_cursor": encode_cursor({"id": page[-1].pk}) if more else None,
    }


@router.get(
    "/touchpoints/{int:id}", response={200: TouchpointOut, **ERRORS}, summary="Get a touchpoint"
)
def get_one(request, id: int):
    return _one(request.auth, id)


@router.post(
    "/touchpoints",
    response={201: TouchpointOut, **ERRORS},
    summary="Log a touchpoint",
    description=(
        "Name the account by `account_id` or `account_external_id`. Any seat but viewer (a "
        "token with the write scope). `follow_up` creates a task in the same transaction. "
        "`@email` in the body records a mention of that member."
    ),
)
def post_touchpoint(request, payload: TouchpointIn):
    actor = request.auth
    data = payload.dict(exclude_unset=True)
    account = _account(actor, data.pop("account_id", None), data.pop("account_external_id", None))
    if "members" in data:
        data["members"] = _members(actor, data["members"])
    if data.get("occurred_at") is None:
        data.pop("occurred_at", None)
    follow_up = data.get("follow_up")
    if follow_up is not None:
        follow_up = dict(follow_up)
        follow_up["type"] = "follow_up"
        if follow_up.get("due_date") is None:
            follow_up.pop("due_date", None)
        if follow_up.get("assignee") is not None:
            follow_up["assignee"] = _member(actor, follow_up["assignee"], "follow_up.assignee")
        elif actor.member is None and actor.token is not None:
            follow_up["assignee"] = actor.token.created_by
        else:
            follow_up.pop("assignee", None)
        data["follow_up"] = follow_up
    else:
        data.pop("follow_up", None)
    touchpoint = actions.log_touchpoint(actor, account, data)
    return Status(201, _one(actor, touchpoint.pk))


@router.patch(
    "/touchpoints/{int:id}", response={200: TouchpointOut, **ERRORS}, summary="Change a touchpoint"
)
def patch_touchpoint(request, id: int, payload: TouchpointPatch):
    actor = request.auth
    touchpoint = get_touchpoint(actor, id, queryset=Touchpoint.objects.select_related("account"))
    changes = payload.dict(exclude_unset=True)
    for name, value in list(changes.items()):
        if value is None and name != "body":
            raise InvalidInput(name, "must not be null")
    if "members" in changes:
        changes["members"] = _members(actor, changes["members"])
    actions.update_touchpoint(actor, touchpoint, changes)
    return _one(actor, id)


@router.delete(
    "/touchpoints/{int:id}", response={204: None, **ERRORS}, summary="Delete a touchpoint"
)
def remove_touchpoint(request, id: int):
    actor = request.auth
    actions.delete_touchpoint(actor, get_touchpoint(actor, id))
    return Status(204, None)


def _attachment(actor: Actor, id: int, attachment_id: int) -> TouchpointAttachment:
    touchpoint = get_touchpoint(actor, id)
    attachment = touchpoint.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404("No such file on this touchpoint.")
    attachment.touchpoint = touchpoint
    return attachment


@router.post(
    "/touchpoints/{int:id}/attachments",
    response={201: list[AttachmentOut], **ERRORS},
    summary="Attach files to a touchpoint",
    description=(
        "Multipart form with one or more `files`. Each at most `TEND_ATTACHMENT_MAX_BYTES` "
        "(10 MB by default), at most `TEND_ATTACHMENTS_PER_TOUCHPOINT` (10) on a "
        "touchpoint; all or none are stored, and a refusal names `attachments`. Those who "
        "may change the touchpoint."
    ),
)
def post_attachments(request, id: int, files: File[list[UploadedFile]] = None):
    actor = request.auth
    touchpoint = get_touchpoint(actor, id)
    stored = actions.add_attachments(actor, touchpoint, files or [])
    return Status(201, [attachment_out(a) for a in stored])


@router.get(
    "/touchpoints/{int:id}/attachments/{int:attachment_id}",
    response={200: None, **ERRORS},
    summary="Download a touchpoint's file",
    description="The bytes, as `application/octet-stream` with the file's name.",
)
def get_attachment(request, id: int, attachment_id: int):
    attachment = _attachment(request.auth, id, attachment_id)
    try:
        handle = open(actions.attachment_path(attachment), "rb")  # noqa: SIM115  (FileResponse closes it)
    except FileNotFoundError:
        raise Http404("The file is missing from the server's storage.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.file_name,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.delete(
    "/touchpoints/{int:id}/attachments/{int:attachment_id}",
    response={204: None, **ERRORS},
    summary="Remove a touchpoint's file",
)
def remove_attachment(request, id: int, attachment_id: int):
    actor = request.auth
    actions.delete_attachment(actor, _attachment(actor, id, attachment_id))
    return Status(204, None)


@router.get(
    "/touchpoint-types", response={200: list[TypeOut], **ERRORS}, summary="Touchpoint types"
)
def list_types(request):
    actor = request.auth
    actor.require(READ)
    builtin = {key for key, _ in actions.TouchpointKind.choices}
    return [
        {"key": key, "name": name, "built_in": key in builtin}
        for key, name in actions.touchpoint_types(actor.workspace)
    ]


@router.post(
    "/touchpoint-types",
    response={201: TypeOut, **ERRORS},
    summary="Add a touchpoint type",
    description="Admins only (a token with the admin scope).",
)
def post_type(request, payload: TypeIn):
    created = actions.create_touchpoint_type(request.auth, payload.name, payload.key)
    return Status(201, {"key": created.key, "name": created.name, "built_in": False})
