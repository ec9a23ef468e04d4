"""The one write path for touchpoints: log, change and delete them, with their participants,
``@mentions`` and an optional follow-up task created in the same transaction.

Rights (``tend.work.touchpoint_queries``): every seat but viewer logs touchpoints on any
account; writers (admin, practitioner) change and delete any; a contributor those they
wrote. :func:`log_account_touchpoint` is the entry point for automation (plays), with an
idempotency ``key``.

Mentions: ``@`` followed by a member's email (``@ana@example.com``) or the part of it
before the ``@`` (``@ana``, when only one member's email starts so) names a member; only
active members of the touchpoint's workspace are recorded, anything else is left as text.
"""

import datetime
import re

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from tend.accounts.models import Account, Contact
from tend.lib.errors import InvalidInput
from tend.notifications.actions import notify
from tend.work.actions.attachments import check_uploads, store_attachments
from tend.work.actions.tasks import KEY_MAX, SOURCE_MAX, create_task
from tend.work.models import (
    Sentiment,
    Touchpoint,
    TouchpointKind,
    TouchpointMention,
    TouchpointType,
)
from tend.work.queries import can_change_touchpoint
from tend.workspaces.access import ADMIN, CONTRIBUTE, Actor
from tend.workspaces.models import Member

SUBJECT_MAX = 200
# Totango accepts 12,000 characters; Tend is more generous but still bounded.
BODY_MAX = 20_000
PARTICIPANTS_MAX = 50
TYPE_NAME_MAX = 80
EDITABLE = ("type", "occurred_at", "subject", "body", "sentiment", "members", "contacts")
# Either a whole email or an email's local part; a trailing dot (end of sentence) is not part.
MENTION = re.compile(r"(?<![\w.@])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")

__all__ = [
    "BODY_MAX",
    "PARTICIPANTS_MAX",
    "TYPE_NAME_MAX",
    "TouchpointKind",
    "SUBJECT_MAX",
    "can_change_touchpoint",
    "create_touchpoint_type",
    "delete_touchpoint",
    "log_account_touchpoint",
    "log_touchpoint",
    "mentioned_members",
    "touchpoint_types",
    "update_touchpoint",
]


# --- types -------------------------------------------------------------------------------------


def touchpoint_types(workspace, *, include_archived: bool = False) -> list[tuple[str, str]]:
    """``(key, name)`` of every type a touchpoint may have: the built-in ones, then the
    workspace's own."""
    custom = TouchpointType.objects.filter(workspace=workspace)
    if not include_archived:
        custom = custom.filter(archived=False)
    return [*TouchpointKind.choices, *custom.values_list("key", "name")]


def _type(workspace, value) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput("type", "is required")
    if value in TouchpointKind.values:
        return value
    if TouchpointType.objects.filter(workspace=workspace, key=value, archived=False).exists():
        return value
    known = ", ".join(key for key, _ in touchpoint_types(workspace))
    raise InvalidInput("type", f"must be one of {known}")


@transaction.atomic
def create_touchpoint_type(actor: Actor, name: str, key: str = "") -> TouchpointType:
    """An admin adds a type of touchpoint; ``key`` defaults to the name, slugged."""
    actor.require(ADMIN)
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise InvalidInput("name", "is required")
    if len(name) > TYPE_NAME_MAX:
        raise InvalidInput("name", f"must be at most {TYPE_NAME_MAX} characters")
    key = (key or re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_"))[:40]
    if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
        raise InvalidInput("key", "must start with a letter and hold only a-z, 0-9 and _")
    if key in TouchpointKind.values:
        raise InvalidInput("key", f"{key!r} is a built-in type")
    if TouchpointType.objects.filter(workspace=actor.workspace, key=key).exists():
        raise InvalidInput("key", f"a type {key!r} exists already")
    return TouchpointType.objects.create(workspace=actor.workspace, key=key, name=name)


# --- validation --------------------------------------------------------------------------------


def _subject(value) -> str:
    subject = value.strip() if isinstance(value, str) else ""
    if not subject:
        raise InvalidInput("subject", "is required")
    if len(subject) > SUBJECT_MAX:
        raise InvalidInput("subject", f"must be at most {SUBJECT_MAX} characters")
    return subject


def _body(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput("body", "must be text")
    if len(value) > BODY_MAX:
        raise InvalidInput("body", f"must be at most {BODY_MAX:,} characters")
    return value.strip()


def _occurred_at(value) -> datetime.datetime:
    if not isinstance(value, datetime.datetime):
        raise InvalidInput("occurred_at", "must be a date and time")
    if timezone.is_naive(value):
        raise InvalidInput("occurred_at", "must carry a time zone")
    if value > timezone.now() + datetime.timedelta(days=366):
        raise InvalidInput("occurred_at", "is more than a year ahead")
    return value


def _sentiment(value) -> str:
    if value not in Sentiment.values:
        raise InvalidInput("sentiment", f"must be one of {', '.join(Sentiment.values)}")
    return value


def _ids(name: str, values) -> list[int]:
    if values is None:
        return []
    if not isinstance(values, list | tuple | set):
        raise InvalidInput(name, "must be a list of ids")
    out = []
    for value in values:
        pk = getattr(value, "pk", value)
        if isinstance(pk, bool) or not isinstance(pk, int | str) or not str(pk).isdigit():
            raise InvalidInput(name, f"{value!r} is not an id")
        out.append(int(pk))
    out = list(dict.fromkeys(out))
    if len(out) > PARTICIPANTS_MAX:
        raise InvalidInput(name, f"at most {PARTICIPANTS_MAX}")
    return out


def _members(workspace, values) -> list[Member]:
    wanted = _ids("members", values)
    found = {m.pk: m for m in Member.objects.filter(workspace=workspace, pk__in=wanted)}
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise InvalidInput("members", f"no member {missing[0]} in this workspace")
    return [found[pk] for pk in wanted]


def _contacts(account: Account, values) -> list[Contact]:
    wanted = _ids("contacts", values)
    found = {c.pk: c for c in Contact.objects.filter(account=account, pk__in=wanted)}
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise InvalidInput("contacts", f"no contact {missing[0]} on {account.name}")
    return [found[pk] for pk in wanted]


def _fields(workspace, account: Account, data: dict) -> tuple[dict, dict]:
    """The plain fields and the participant lists present in ``data``, validated."""
    clean, people = {}, {}
    if "type" in data:
        clean["type"] = _type(workspace, data["type"])
    if "occurred_at" in data:
        clean["occurred_at"] = _occurred_at(data["occurred_at"])
    if "subject" in data:
        clean["subject"] = _subject(data["subject"])
    if "body" in data:
        clean["body"] = _body(data["body"])
    if "sentiment" in data:
        clean["sentiment"] = _sentiment(data["sentiment"])
    if "members" in data:
        people["members"] = _members(workspace, data["members"])
    if "contacts" in data:
        people["contacts"] = _contacts(account, data["contacts"])
    return clean, people


# --- mentions ----------------------------------------------------------------------------------


def mentioned_members(workspace, text: str) -> list[Member]:
    """The active members of ``workspace`` that ``text`` mentions (see the module's doc):
    one query whatever the number of mentions."""
    names = {m.lower() for m in MENTION.findall(text or "")}
    if not names:
        return []
    members = list(
        Member.objects.filter(workspace=workspace, is_active=True).select_related("user")
    )
    by_email = {m.user.email.lower(): m for m in members}
    by_local: dict[str, list[Member]] = {}
    for member in members:
        by_local.setdefault(member.user.email.lower().partition("@")[0], []).append(member)
    found = {}
    for name in names:
        member = by_email.get(name)
        if member is None and len(by_local.get(name.rstrip("."), [])) == 1:
            member = by_local[name.rstrip(".")][0]
        if member is not None:
            found[member.pk] = member
    return list(found.values())


def _record_mentions(touchpoint: Touchpoint) -> None:
    """Mentions as the body has them now: new ones added, removed ones dropped (an edit does
    not mention anyone twice). Each new mention notifies its member in the same transaction,
    unless they wrote the touchpoint themselves."""
    wanted = {m.pk: m for m in mentioned_members(touchpoint.workspace, touchpoint.body)}
    have = set(touchpoint.mentions.values_list("member_id", flat=True))
    touchpoint.mentions.exclude(member_id__in=wanted).delete()
    new = TouchpointMention.objects.bulk_create(
        [
            TouchpointMention(workspace=touchpoint.workspace, touchpoint=touchpoint, member_id=pk)
            for pk in sorted(set(wanted) - have)
        ]
    )
    _notify_mentioned(touchpoint, [wanted[m.member_id] for m in new])


def _notify_mentioned(touchpoint: Touchpoint, members: list[Member]) -> None:
    author = touchpoint.author.name if touchpoint.author else (touchpoint.author_label or "Tend")
    account = touchpoint.account
    told = []
    for member in members:
        if member.pk == touchpoint.author_id:
            continue
        notify(
            member,
            kind="mention",
            title=f"{author} mentioned you on {account.name}: {touchpoint.subject}",
            key=f"mention:{touchpoint.pk}:{member.pk}",
            account=account,
            url=reverse("touchpoints:detail", args=[touchpoint.pk]),
            cause="mentioned in a touchpoint",
        )
        told.append(member.pk)
    if told:
        TouchpointMention.objects.filter(touchpoint=touchpoint, member_id__in=told).update(
            notified_at=timezone.now()
        )


# --- rights ------------------------------------------------------------------------------------


def _require_change(actor: Actor, touchpoint: Touchpoint) -> None:
    if not can_change_touchpoint(actor, touchpoint):
        if not actor.can(CONTRIBUTE):
            raise PermissionDenied(actor.denial(CONTRIBUTE))
        raise PermissionDenied("A Contributor seat changes only the touchpoints they logged.")


# --- writing -----------------------------------------------------------------------------------


def _insert(workspace, account, values: dict, people: dict, key: str) -> tuple[Touchpoint, bool]:
    if key:
        existing = Touchpoint.objects.filter(workspace=workspace, key=key).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            touchpoint = Touchpoint.objects.create(
                workspace=workspace, account=account, key=key, **values
            )
    except IntegrityError:
        if not key:
            raise
        return Touchpoint.objects.get(workspace=workspace, key=key), False
    for name, rows in people.items():
        getattr(touchpoint, name).set(rows)
    _record_mentions(touchpoint)
    return touchpoint, True


@transaction.atomic
def log_touchpoint(actor: Actor, account: Account, data: dict) -> Touchpoint:
    """A touchpoint on ``account`` by a person or token. ``data``: subject (required), type
    (default note), occurred_at (default now), body, sentiment (default neutral), members
    and contacts (ids), and ``follow_up``: a task's data (title, due_date, assignee, …) to
    create with it — both or neither are saved; ``attachments``: uploaded files to attach
    (``tend.work.actions.attachments``)."""
    actor.require(CONTRIBUTE)
    if account is None or account.workspace_id != actor.workspace.pk:
        raise InvalidInput("account", "is not an account of this workspace")
    workspace = actor.workspace
    data = dict(data)
    data.setdefault("type", TouchpointKind.NOTE)
    values, people = _fields(workspace, account, data)
    if "subject" not in values:
        raise InvalidInput("subject", "is required")
    now = timezone.now()
    values.setdefault("occurred_at", now)
    values.update(
        author=actor.member,
        author_label="" if actor.member else actor.label,
        source=f"API token {actor.token.name}"[:SOURCE_MAX] if actor.token else "",
        created_at=now,
        updated_at=now,
    )
    uploads = check_uploads(None, data.get("attachments"))
    follow_up = data.get("follow_up")
    if follow_up:
        if not isinstance(follow_up, dict):
            raise InvalidInput("follow_up", "must be an object with the task's fields")
        try:
            values["follow_up_task"] = create_task(actor, account, follow_up)
        except InvalidInput as exc:
            raise InvalidInput(f"follow_up.{exc.field}", exc.message) from exc
    touchpoint = _insert(workspace, account, values, people, "")[0]
    if uploads:
        store_attachments(actor, touchpoint, uploads)
    return touchpoint


@transaction.atomic
def log_account_touchpoint(
    account: Account,
    *,
    subject: str,
    body: str = "",
    type: str = TouchpointKind.NOTE,
    sentiment: str = Sentiment.NEUTRAL,
    occurred_at: datetime.datetime | None = None,
    members: list | None = None,
    play_id: int | None = None,
    source: str = "",
    key: str = "",
) -> tuple[Touchpoint, bool]:
    """A touchpoint logged by automation (a play step). With a ``key`` already used in the
    workspace, returns the first touchpoint and False: steps run at least once."""
    workspace = account.workspace
    data = {"type": type, "subject": subject, "body": body, "sentiment": sentiment}
    if members is not None:
        data["members"] = members
    values, people = _fields(workspace, account, data)
    now = timezone.now()
    values.update(
        occurred_at=_occurred_at(occurred_at) if occurred_at else now,
        author_label=(source or "Automation")[:200],
        play_id=play_id,
        source=(source or "")[:SOURCE_MAX],
        created_at=now,
        updated_at=now,
    )
    key = (key or "").strip()
    if len(key) > KEY_MAX:
        raise InvalidInput("key", f"must be at most {KEY_MAX} characters")
    return _insert(workspace, account, values, people, key)


@transaction.atomic
def update_touchpoint(actor: Actor, touchpoint: Touchpoint, changes: dict) -> Touchpoint:
    """Change any of type, occurred_at, subject, body, sentiment, members, contacts."""
    _require_change(actor, touchpoint)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "cannot be changed")
    values, people = _fields(actor.workspace, touchpoint.account, changes)
    for name, value in values.items():
        setattr(touchpoint, name, value)
    touchpoint.updated_at = timezone.now()
    touchpoint.save()
    for name, rows in people.items():
        getattr(touchpoint, name).set(rows)
    if "body" in values:
        _record_mentions(touchpoint)
    return touchpoint


@transaction.atomic
def delete_touchpoint(actor: Actor, touchpoint: Touchpoint) -> None:
    """Its follow-up task stays: it is work of its own by then. Its files leave the disk
    when the deletion commits (``attachments.file_deleted``)."""
    _require_change(actor, touchpoint)
    touchpoint.delete()
