"""Data → Imports → SFTP sources: the list, the form (passwords and keys are write-only),
a source's page with the files it has seen and the imports they became, and the buttons
Test connection and Poll now. Every source is fetched through ``queries.get_source``: 404
outside the workspace, 403 for a seat without the right (admins change sources)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tend.hub.models import ImportObject, SavedMapping
from tend.hub.sftp import actions
from tend.hub.sftp.client import SftpError
from tend.hub.sftp.models import (
    MAX_EVERY_MINUTES,
    MIN_EVERY_MINUTES,
    AfterImport,
    AuthMethod,
    SftpSource,
)
from tend.hub.sftp.queries import files_of, get_source, sources_of
from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, READ, WRITE

PAGE_SIZE = 25
FILES_PAGE = 50
TEXT_FIELDS = (
    "name", "host", "port", "username", "auth_method", "folder", "pattern", "object", "mapping",
    "source_name", "after_import", "archive_folder", "every_minutes",
)  # fmt: skip


def _actor(request):
    actor = getattr(request, "actor", None)
    if actor is None:
        raise Http404("No workspace.")
    return actor


@login_required
def source_list(request):
    actor = _actor(request)
    page = Paginator(sources_of(actor).order_by("name", "id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "hub/sftp/list.html", {"page": page, "can_admin": actor.can(ADMIN)})


def _values_from(source: SftpSource | None) -> dict:
    if source is None:
        return {
            "port": 22, "auth_method": AuthMethod.PASSWORD, "folder": "/", "pattern": "*.csv",
            "object": ImportObject.ACCOUNT, "source_name": "SFTP", "after_import": AfterImport.ARCHIVE,
            "archive_folder": "/archive", "every_minutes": 15, "enabled": True,
        }  # fmt: skip
    values = {f: getattr(source, f) for f in TEXT_FIELDS if f != "mapping"}
    values["mapping"] = source.mapping.name
    values["enabled"] = source.enabled
    return values


def login_data(request, values: dict, *, editing: bool) -> dict:
    """A posted form's values with its log-in secrets (write-only: never in ``values``, which
    go back into the form) and, when editing, the "trust a new host key" box."""
    data = {**values, "password": request.POST.get("password", ""),
            "private_key": request.POST.get("private_key", "")}  # fmt: skip
    if editing and request.POST.get("trust_new_host_key") == "on":
        data["trust_new_host_key"] = True
    return data


def _form(request, actor, source: SftpSource | None):
    errors, values = {}, _values_from(source)
    if request.method == "POST":
        values = {f: request.POST.get(f, "") for f in TEXT_FIELDS}
        values["enabled"] = request.POST.get("enabled") == "on"
        data = login_data(request, values, editing=source is not None)
        try:
            if source is None:
                source = actions.create_source(actor, data)
                messages.success(
                    request,
                    f"SFTP source “{source.name}” added. Test its connection, then poll it.",
                )
            else:
                actions.update_source(actor, source, data)
                messages.success(request, "Saved.")
        except InvalidInput as exc:
            errors[exc.field] = exc.message
        else:
            return redirect("hub:sftp:detail", source_id=source.pk)
    mappings = SavedMapping.objects.filter(workspace=actor.workspace).order_by("object", "name")
    context = {
        "source": source, "values": values, "errors": errors, "objects": ImportObject.choices,
        "auth_methods": AuthMethod.choices, "after_choices": AfterImport.choices, "mappings": mappings,
        "min_every": MIN_EVERY_MINUTES, "max_every": MAX_EVERY_MINUTES,
    }  # fmt: skip
    return render(request, "hub/sftp/form.html", context, status=400 if errors else 200)


@login_required
def source_new(request):
    actor = _actor(request)
    actor.require(ADMIN)
    return _form(request, actor, None)


@login_required
def source_edit(request, source_id: int):
    actor = _actor(request)
    return _form(request, actor, get_source(actor, source_id, ADMIN))


@login_required
def source_detail(request, source_id: int):
    actor = _actor(request)
    source = get_source(actor, source_id, READ)
    files = Paginator(files_of(source).order_by("-id"), FILES_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "source": source, "page": files, "can_write": actor.can(WRITE), "can_admin": actor.can(ADMIN),
        "now": timezone.now(),
    }  # fmt: skip
    return render(request, "hub/sftp/detail.html", context)


@login_required
@require_POST
def source_test(request, source_id: int):
    actor = _actor(request)
    source = get_source(actor, source_id, WRITE)
    try:
        messages.success(request, actions.check_connection(actor, source))
    except SftpError as exc:
        messages.error(request, f"Connection test failed: {exc.message}")
    return redirect("hub:sftp:detail", source_id=source.pk)


@login_required
@require_POST
def source_poll(request, source_id: int):
    actor = _actor(request)
    source = get_source(actor, source_id, WRITE)
    actions.request_poll(actor, source)
    messages.success(
        request, "Poll queued: files found show below within seconds (refresh the page)."
    )
    return redirect("hub:sftp:detail", source_id=source.pk)


@login_required
@require_POST
def source_delete(request, source_id: int):
    actor = _actor(request)
    source = get_source(actor, source_id, ADMIN)
    name = source.name
    actions.delete_source(actor, source)
    messages.success(
        request, f"SFTP source “{name}” deleted; the imports it made stay in the list."
    )
    return redirect("hub:sftp:list")
