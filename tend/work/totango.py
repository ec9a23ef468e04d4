"""Totango's touchpoint create and read pair, for scripts migrating from Totango
(``/work/shared/reference/wire-formats.md`` §1.4–1.5):

* ``POST /api/v3/touchpoints/`` — JSON or form: ``account_id`` (the account's external id,
  required), ``content`` (plain text ≤ 12,000 characters), ``subject``, ``touchpointType``
  (a Tend type key; other values, Totango's opaque ids, log a note), ``create_date`` (epoch
  ms), ``created_by`` (a member's email), ``participantList`` (``[{"userid": email}]``:
  members, else the account's contacts, by email). ``activity_type_id``,
  ``touchpoint_tags`` and ``disable_sync`` are accepted and kept in ``source`` or ignored.
  Answers ``{"note": {"id": …}}`` as the clients read it.
* ``PUT /api/v3/touchpoints/{note_id}`` — form (URL-encoded or multipart) or JSON with
  Totango's update fields: ``content``, ``subject`` and ``touchpointType`` change what they
  name (only the fields sent; a type that is not a Tend key — Totango's opaque ids — keeps
  the type); ``account_id``, ``note_id`` (when sent) must be the touchpoint's account and
  id; ``event_id``, ``activity_type_id`` and ``touchpoint_tags`` are accepted and ignored
  (Tend's event id is the touchpoint's id). The same rights as editing on the page:
  writers any touchpoint, a contributor those they logged. Answers as the create does.
* ``GET /api/v2/events/?account_id=`` — a bare JSON array of the account's touchpoints as
  Totango events (``type: "note"``), newest first; ``count`` (≤ 1000) and ``offset`` page
  it, and ``X-Total-Count`` says how many there are, so nothing is cut off unsaid.

Authentication: the ``app-token`` header (or a bearer token). Failures use Totango's
envelope with Tend's ``errors`` beside it, each naming the field.
"""

import datetime
import io

import orjson
from django.http import HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from ninja.errors import HttpError

from tend.accounts.models import Account, Contact
from tend.lib.errors import InvalidInput
from tend.work import actions
from tend.work.models import Touchpoint, TouchpointKind
from tend.work.queries import can_change_touchpoint, touchpoint_people
from tend.workspaces.access import CONTRIBUTE, READ
from tend.workspaces.auth import ActorAuth
from tend.workspaces.models import Member

CONTENT_MAX = 12_000
COUNT_MAX = 1000


def _answer(body, status: int = 200, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(orjson.dumps(body), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _failed(status: int, field: str, message: str) -> HttpResponse:
    return _answer(
        {
            "status": "failed",
            "_error": f"{field}: {message}",
            "errors": [{"field": field, "message": message}],
        },
        status,
    )


def _actor(request, right):
    """The caller, or a refusal in Totango's envelope."""
    try:
        actor = ActorAuth()(request)
    except HttpError as exc:
        return None, _failed(exc.status_code, "X-CSRFToken", str(exc))
    if actor is None:
        detail = (
            "the API token is unknown or revoked"
            if getattr(request, "bearer_presented", False)
            else "send the API token in the app-token header"
        )
        response = _failed(401, "app-token", detail)
        response["WWW-Authenticate"] = 'Bearer realm="tend"'
        return None, response
    if not actor.can(right):
        return None, _failed(403, "app-token", actor.denial(right))
    return actor, None


def _fields(request) -> dict:
    """The body's fields: JSON, or a form — which Django reads for POST only, so a PUT's
    form is parsed here."""
    if request.content_type == "application/json":
        try:
            body = orjson.loads(request.body or b"{}")
        except orjson.JSONDecodeError as exc:
            raise InvalidInput("body", f"is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise InvalidInput("body", "must be a JSON object")
        return body
    if request.method == "PUT":
        if request.content_type == "multipart/form-data":
            try:
                form, _files = MultiPartParser(
                    request.META,
                    io.BytesIO(request.body),
                    request.upload_handlers,
                    request.encoding,
                ).parse()
            except MultiPartParserError as exc:
                raise InvalidInput("body", f"is not a readable form: {exc}") from None
        else:
            form = QueryDict(request.body, encoding=request.encoding)
        return {key: form.get(key) for key in form}
    return {key: request.POST.get(key) for key in request.POST}


def _account(actor, value) -> Account:
    if not value or not isinstance(value, str | int):
        raise InvalidInput("account_id", "is required")
    account = Account.objects.filter(workspace=actor.workspace, external_id=str(value)).first()
    if account is None:
        raise InvalidInput("account_id", "Account not found")
    return account


def _when(value) -> datetime.datetime | None:
    if value in (None, ""):
        return None
    try:
        ms = int(value)
    except (TypeError, ValueError):
        raise InvalidInput("create_date", "must be epoch milliseconds") from None
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)


def _participants(actor, account, value) -> tuple[list[int], list[int], list[str]]:
    """Members and contacts named by ``participantList``, and the ids matching neither."""
    if value in (None, ""):
        return [], [], []
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise InvalidInput("participantList", "must be a JSON list") from None
    if not isinstance(value, list):
        raise InvalidInput("participantList", 'must be a list of {"userid": …}')
    ids = []
    for entry in value:
        userid = entry.get("userid") if isinstance(entry, dict) else entry
        if not isinstance(userid, str) or not userid.strip():
            raise InvalidInput("participantList", 'each entry needs a "userid"')
        ids.append(userid.strip().lower())
    members = dict(
        Member.objects.filter(workspace=actor.workspace, user__email__in=ids).values_list(
            "user__email", "pk"
        )
    )
    contacts = dict(
        Contact.objects.filter(account=account, email__in=ids).values_list("email", "pk")
    )
    members = {k.lower(): v for k, v in members.items()}
    contacts = {k.lower(): v for k, v in contacts.items()}
    unknown = [i for i in ids if i not in members and i not in contacts]
    return (
        [members[i] for i in ids if i in members],
        [contacts[i] for i in ids if i not in members and i in contacts],
        unknown,
    )


def _event(touchpoint: Touchpoint) -> dict:
    ms = int(touchpoint.occurred_at.timestamp() * 1000)
    return {
        "id": touchpoint.pk,
        "timestamp": ms,
        "type": "note",
        "account": {
            "id": touchpoint.account.external_id,
            "display_name": touchpoint.account.name,
        },
        "note_content": {
            "note_id": touchpoint.pk,
            "text": touchpoint.body,
            "totango_user": {
                "user_name": touchpoint.author.user.email
                if touchpoint.author
                else touchpoint.author_name
            },
        },
        "properties": {
            "subject": touchpoint.subject,
            "meeting_type": touchpoint.type,
            "sentiment": touchpoint.sentiment,
            "totango_participants": [m.user.email for m in touchpoint.members.all()]
            + [c.email or c.name for c in touchpoint.contacts.all()],
            "last_edit_time": int(touchpoint.updated_at.timestamp() * 1000),
        },
    }


@csrf_exempt  # token callers need none; a session caller is checked by ActorAuth
@require_POST
def create_touchpoint(request):
    actor, refusal = _actor(request, CONTRIBUTE)
    if refusal:
        return refusal
    try:
        fields = _fields(request)
        account = _account(actor, fields.get("account_id"))
        content = _content(fields.get("content"))
        subject = fields.get("subject") or content.strip().split("\n")[0][:80] or "Touchpoint"
        kind = fields.get("touchpointType")
        members, contacts, unknown = _participants(actor, account, fields.get("participantList"))
        data = {
            "subject": subject,
            "body": content,
            "type": kind
            if kind in dict(actions.touchpoint_types(actor.workspace))
            else TouchpointKind.NOTE,
            "members": members,
            "contacts": contacts,
        }
        when = _when(fields.get("create_date"))
        if when is not None:
            data["occurred_at"] = when
        author = fields.get("created_by") or fields.get("user_id")
        touchpoint = actions.log_touchpoint(actor, account, data)
        if isinstance(author, str) and author:
            member = Member.objects.filter(
                workspace=actor.workspace, user__email__iexact=author.strip()
            ).first()
            # Kept as written: the token logged it, on behalf of this person.
            Touchpoint.objects.filter(pk=touchpoint.pk).update(
                author=member, author_label=author.strip()[:200]
            )
    except InvalidInput as exc:
        return _failed(400, exc.field, exc.message)
    return _note(touchpoint, account, ignored_participants=unknown)


def _note(touchpoint: Touchpoint, account: Account, **extra) -> HttpResponse:
    return _answer(
        {
            "status": "success",
            "note": {
                "id": touchpoint.pk,
                "account_id": account.external_id,
                "subject": touchpoint.subject,
                "content": touchpoint.body,
                "type": touchpoint.type,
                "create_date": int(touchpoint.occurred_at.timestamp() * 1000),
                **extra,
            },
        }
    )


def _content(value) -> str:
    content = value or ""
    if not isinstance(content, str):
        raise InvalidInput("content", "must be text")
    if len(content) > CONTENT_MAX:
        raise InvalidInput("content", f"must be at most {CONTENT_MAX:,} characters")
    return content


@csrf_exempt  # as create_touchpoint
@require_http_methods(["PUT"])
def update_touchpoint(request, note_id: str):
    actor, refusal = _actor(request, CONTRIBUTE)
    if refusal:
        return refusal
    touchpoint = (
        Touchpoint.objects.filter(workspace=actor.workspace, pk=int(note_id))
        .select_related("account")
        .first()
        if note_id.isdigit()
        else None
    )
    if touchpoint is None:
        # Another workspace's touchpoint is as unknown as a missing one.
        return _failed(404, "note_id", "Touchpoint not found")
    if not can_change_touchpoint(actor, touchpoint):
        return _failed(
            403, "app-token", "A Contributor seat changes only the touchpoints they logged."
        )
    account = touchpoint.account
    try:
        fields = _fields(request)
        sent_account = fields.get("account_id")
        if sent_account not in (None, "") and str(sent_account) != account.external_id:
            raise InvalidInput("account_id", "is not the touchpoint's account")
        sent_id = fields.get("note_id")
        if sent_id not in (None, "") and str(sent_id) != str(touchpoint.pk):
            raise InvalidInput("note_id", "does not match the touchpoint in the path")
        changes = {}
        if "content" in fields:
            changes["body"] = _content(fields["content"])
        if "subject" in fields:
            subject = fields["subject"]
            if not isinstance(subject, str) or not subject.strip():
                raise InvalidInput("subject", "must not be empty")
            changes["subject"] = subject
        kind = fields.get("touchpointType")
        if kind in dict(actions.touchpoint_types(actor.workspace)):
            changes["type"] = kind
        if changes:
            touchpoint = actions.update_touchpoint(actor, touchpoint, changes)
    except InvalidInput as exc:
        return _failed(400, exc.field, exc.message)
    return _note(touchpoint, account)


@require_GET
def list_events(request):
    actor, refusal = _actor(request, READ)
    if refusal:
        return refusal
    try:
        account = _account(actor, request.GET.get("account_id"))
        try:
            count = int(request.GET.get("count") or COUNT_MAX)
            offset = int(request.GET.get("offset") or 0)
        except ValueError:
            raise InvalidInput("count", "count and offset must be whole numbers") from None
        if not 1 <= count <= COUNT_MAX:
            raise InvalidInput("count", f"must be between 1 and {COUNT_MAX}")
        if offset < 0:
            raise InvalidInput("offset", "must not be negative")
    except InvalidInput as exc:
        return _failed(400, exc.field, exc.message)
    rows = touchpoint_people(Touchpoint.objects.filter(workspace=actor.workspace, account=account))
    total = rows.count()
    page = rows.order_by("-occurred_at", "-id")[offset : offset + count]
    return _answer([_event(t) for t in page], headers={"X-Total-Count": str(total)})
