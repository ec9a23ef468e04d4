"""Touchpoint pages: log one (from the account profile's panel or its own page), read one,
edit and delete it. Every page fetches the account or touchpoint through the chokepoint
(404 outside the workspace); writing needs a seat that may (403 otherwise)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.accounts.models import Account
from tend.accounts.views.accounts.common import account_for, member_required
from tend.lib.dates import zone
from tend.lib.errors import InvalidInput
from tend.work import actions
from tend.work.forms import TouchpointForm
from tend.work.markdown import render_markdown
from tend.work.models import TaskType, Touchpoint, TouchpointKind
from tend.work.queries import can_change_touchpoint, get_touchpoint, touchpoint_people
from tend.work.views.common import go, safe_next
from tend.workspaces.access import ADMIN, CONTRIBUTE

# Form fields named differently from the action's: the follow-up task's, and its own.
FIELD_OF = {
    "follow_up.title": "follow_up_title",
    "follow_up.due_date": "follow_up_due",
    "follow_up.assignee": "follow_up_assignee",
}


def _form(request, account, data=None, initial=None) -> TouchpointForm:
    return TouchpointForm(data, workspace=request.actor.workspace, account=account, initial=initial)


def _initial(workspace) -> dict:
    now = timezone.now().astimezone(zone(workspace.time_zone)).replace(second=0, microsecond=0)
    return {"type": TouchpointKind.NOTE, "occurred_at": now.replace(tzinfo=None)}


def panel_context(request, account) -> dict:
    """The profile's "Log a touchpoint" panel: an unbound form posting to the new page."""
    actor = request.actor
    here = reverse("accounts:profile", args=[account.pk])
    return {
        "can_create": actor.can(CONTRIBUTE),
        "form": _form(request, account, initial=_initial(actor.workspace))
        if actor.can(CONTRIBUTE)
        else None,
        "action": f"{reverse('touchpoints:new')}?{urlencode({'account': account.pk})}",
        "next": f"{here}#timeline",
    }


def _data(request, form) -> dict:
    """The action's data from a valid form: times in the workspace's zone."""
    clean = form.cleaned_data
    tz = zone(request.actor.workspace.time_zone)
    occurred = clean["occurred_at"]
    occurred = occurred.replace(tzinfo=None).replace(tzinfo=tz)
    data = {
        "type": clean["type"],
        "occurred_at": occurred,
        "subject": clean["subject"],
        "body": clean["body"],
        "sentiment": clean["sentiment"],
        "members": [m.pk for m in clean["members"]],
        "contacts": [c.pk for c in clean["contacts"]],
    }
    if clean.get("follow_up"):
        data["follow_up"] = {
            "title": clean["follow_up_title"],
            "due_date": clean["follow_up_due"],
            "type": TaskType.FOLLOW_UP,
            "assignee": clean["follow_up_assignee"] or request.actor.member,
        }
    return data


def _form_error(form, exc: InvalidInput) -> None:
    field = FIELD_OF.get(exc.field, exc.field)
    form.add_error(field if field in form.fields else None, exc.message)


def _account(request) -> Account:
    raw = request.GET.get("account") or request.POST.get("account") or ""
    if not str(raw).isdigit():
        raise Http404("Name the account: ?account=<id>.")
    return account_for(request, int(raw))


@member_required
@require_http_methods(["GET", "POST"])
def touchpoint_new(request):
    actor = request.actor
    account = _account(request)
    actor.require(CONTRIBUTE)
    back = safe_next(request, reverse("accounts:profile", args=[account.pk]) + "#timeline")
    if request.method == "POST":
        form = _form(request, account, request.POST)
        if form.is_valid():
            try:
                data = _data(request, form)
                data["attachments"] = request.FILES.getlist("attachments")
                touchpoint = actions.log_touchpoint(actor, account, data)
            except InvalidInput as exc:
                _form_error(form, exc)
            else:
                note = f"Logged “{touchpoint.subject}”."
                if touchpoint.follow_up_task_id:
                    note += f" Follow-up task “{touchpoint.follow_up_task.title}” created."
                messages.success(request, note)
                return go(request, back)
        status = 422
    else:
        form, status = _form(request, account, initial=_initial(actor.workspace)), 200
    return render(
        request,
        "work/touchpoint_form.html",
        {"form": form, "account": account, "touchpoint": None, "next": back},
        status=status,
    )


@member_required
@require_GET
def touchpoint_detail(request, touchpoint_id: int):
    actor = request.actor
    touchpoint = get_touchpoint(
        actor, touchpoint_id, queryset=touchpoint_people(actor_touchpoints(actor))
    )
    return render(
        request,
        "work/touchpoint_detail.html",
        {
            "touchpoint": touchpoint,
            "attachments": touchpoint.attachments.all(),
            "account": touchpoint.account,
            "type_name": dict(actions.touchpoint_types(actor.workspace, include_archived=True)).get(
                touchpoint.type, touchpoint.type
            ),
            "body": render_markdown(touchpoint.body),
            "tz": actor.workspace.time_zone or "UTC",
            "can_change": can_change_touchpoint(actor, touchpoint),
        },
    )


def actor_touchpoints(actor):
    return Touchpoint.objects.filter(workspace=actor.workspace)


def _changeable(request, touchpoint_id: int):
    actor = request.actor
    touchpoint = get_touchpoint(
        actor, touchpoint_id, queryset=touchpoint_people(actor_touchpoints(actor))
    )
    if not can_change_touchpoint(actor, touchpoint):
        raise PermissionDenied(
            actor.denial(CONTRIBUTE)
            if not actor.can(CONTRIBUTE)
            else "A Contributor seat changes only the touchpoints they logged."
        )
    return touchpoint


@member_required
@require_http_methods(["GET", "POST"])
def touchpoint_edit(request, touchpoint_id: int):
    actor = request.actor
    touchpoint = _changeable(request, touchpoint_id)
    account = touchpoint.account
    detail = reverse("touchpoints:detail", args=[touchpoint.pk])
    if request.method == "POST":
        form = _form(request, account, request.POST)
        if form.is_valid():
            data = _data(request, form)
            data.pop("follow_up", None)
            uploads = request.FILES.getlist("attachments")
            try:
                with transaction.atomic():  # the changes and the new files, or neither
                    actions.update_touchpoint(actor, touchpoint, data)
                    if uploads:
                        actions.add_attachments(actor, touchpoint, uploads)
            except InvalidInput as exc:
                _form_error(form, exc)
            else:
                messages.success(request, "Touchpoint saved.")
                return go(request, detail)
        status = 422
    else:
        local = touchpoint.occurred_at.astimezone(zone(actor.workspace.time_zone))
        form = _form(
            request,
            account,
            initial={
                "type": touchpoint.type,
                "occurred_at": local.replace(tzinfo=None, second=0, microsecond=0),
                "subject": touchpoint.subject,
                "body": touchpoint.body,
                "sentiment": touchpoint.sentiment,
                "members": [m.pk for m in touchpoint.members.all()],
                "contacts": [c.pk for c in touchpoint.contacts.all()],
            },
        )
        status = 200
    return render(
        request,
        "work/touchpoint_form.html",
        {"form": form, "account": account, "touchpoint": touchpoint, "next": detail},
        status=status,
    )


@member_required
@require_POST
def touchpoint_delete(request, touchpoint_id: int):
    touchpoint = _changeable(request, touchpoint_id)
    account = touchpoint.account
    actions.delete_touchpoint(request.actor, touchpoint)
    messages.success(request, f"Deleted “{touchpoint.subject}”.")
    return go(request, reverse("accounts:profile", args=[account.pk]) + "#timeline")


@member_required
@require_GET
def touchpoint_attachment(request, touchpoint_id: int, attachment_id: int):
    """A file, as a download, for any member of the touchpoint's workspace (404 otherwise).
    Always ``application/octet-stream`` with ``nosniff``: an uploaded HTML or SVG file is
    never rendered by the browser on Tend's origin."""
    touchpoint = get_touchpoint(request.actor, touchpoint_id)
    attachment = touchpoint.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404("No such file on this touchpoint.")
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
    response["Content-Security-Policy"] = "sandbox"
    return response


@member_required
@require_POST
def touchpoint_attachment_delete(request, touchpoint_id: int, attachment_id: int):
    touchpoint = _changeable(request, touchpoint_id)
    attachment = touchpoint.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404("No such file on this touchpoint.")
    actions.delete_attachment(request.actor, attachment)
    messages.success(request, f"Removed “{attachment.file_name}”.")
    return go(request, reverse("touchpoints:detail", args=[touchpoint.pk]))


@member_required
@require_http_methods(["GET", "POST"])
def touchpoint_types_page(request):
    """The workspace's touchpoint types: the built-in ones and its own; admins add one."""
    actor = request.actor
    error, name = "", ""
    if request.method == "POST":
        actor.require(ADMIN)
        name = request.POST.get("name", "")
        try:
            created = actions.create_touchpoint_type(actor, name)
        except InvalidInput as exc:
            error = exc.message
        else:
            messages.success(request, f"Added the touchpoint type “{created.name}”.")
            return go(request, reverse("touchpoints:types"))
    builtin = dict(TouchpointKind.choices)
    return render(
        request,
        "work/touchpoint_types.html",
        {
            "types": [
                {"key": key, "name": label, "built_in": key in builtin}
                for key, label in actions.touchpoint_types(actor.workspace)
            ],
            "can_add": actor.can(ADMIN),
            "error": error,
            "name": name,
        },
        status=422 if error else 200,
    )
