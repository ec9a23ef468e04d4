"""Data → Exports → Scheduled: the list, the form (passwords and keys write-only), a
schedule's page with its run history, and the buttons Test connection and Run now. Every
schedule is fetched through ``queries.get_schedule``: 404 outside the workspace, 403 for a
seat without the right (admins change schedules, members with the write right run them)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tend.hub.export_schedules import actions
from tend.hub.export_schedules.models import (
    MAX_EVERY_HOURS,
    ExportFormat,
    ExportSchedule,
    ScheduleKind,
)
from tend.hub.export_schedules.queries import get_schedule, runs_of, schedules_of
from tend.hub.sftp.client import SftpError
from tend.hub.sftp.models import AuthMethod
from tend.hub.sftp.views import login_data
from tend.lib import datasets
from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, READ, WRITE

PAGE_SIZE = 25
RUNS_PAGE = 50
TEXT_FIELDS = (
    "name", "dataset", "format", "host", "port", "username", "auth_method", "folder",
    "file_name", "schedule", "time_of_day", "every_hours",
)  # fmt: skip


def _actor(request):
    actor = getattr(request, "actor", None)
    if actor is None:
        raise Http404("No workspace.")
    return actor


@login_required
def schedule_list(request):
    actor = _actor(request)
    actor.require(READ)
    page = Paginator(schedules_of(actor).order_by("name", "id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    labels = {d.key: d.label for d in datasets.datasets()}
    for schedule in page.object_list:
        schedule.dataset_label = labels.get(schedule.dataset, schedule.dataset)
    context = {"page": page, "can_admin": actor.can(ADMIN), "zone": actor.workspace.time_zone}
    return render(request, "hub/export_schedules/list.html", context)


def _values_from(schedule: ExportSchedule | None) -> dict:
    if schedule is None:
        return {
            "dataset": "accounts", "format": ExportFormat.CSV, "port": 22,
            "auth_method": AuthMethod.PASSWORD, "folder": "/", "file_name": "{dataset}-{date}.{ext}",
            "schedule": ScheduleKind.DAILY, "time_of_day": "06:00", "every_hours": 24, "enabled": True,
        }  # fmt: skip
    values = {f: getattr(schedule, f) for f in TEXT_FIELDS}
    values["time_of_day"] = f"{schedule.time_of_day:%H:%M}" if schedule.time_of_day else ""
    values["enabled"] = schedule.enabled
    return values


def _form(request, actor, schedule: ExportSchedule | None):
    errors, values = {}, _values_from(schedule)
    if request.method == "POST":
        values = {f: request.POST.get(f, "") for f in TEXT_FIELDS}
        values["enabled"] = request.POST.get("enabled") == "on"
        data = login_data(request, values, editing=schedule is not None)
        try:
            if schedule is None:
                schedule = actions.create_schedule(actor, data)
                messages.success(
                    request,
                    f"Scheduled export “{schedule.name}” added. Test its connection, or run it now.",
                )
            else:
                actions.update_schedule(actor, schedule, data)
                messages.success(request, "Saved.")
        except InvalidInput as exc:
            errors[exc.field] = exc.message
        else:
            return redirect("hub_exports:scheduled_detail", schedule_id=schedule.pk)
    context = {
        "schedule": schedule, "values": values, "errors": errors, "datasets": datasets.datasets(),
        "formats": ExportFormat.choices, "kinds": ScheduleKind.choices, "auth_methods": AuthMethod.choices,
        "max_every": MAX_EVERY_HOURS, "zone": actor.workspace.time_zone,
    }  # fmt: skip
    return render(request, "hub/export_schedules/form.html", context, status=400 if errors else 200)


@login_required
def schedule_new(request):
    actor = _actor(request)
    actor.require(ADMIN)
    return _form(request, actor, None)


@login_required
def schedule_edit(request, schedule_id: int):
    actor = _actor(request)
    return _form(request, actor, get_schedule(actor, schedule_id, ADMIN))


@login_required
def schedule_detail(request, schedule_id: int):
    actor = _actor(request)
    schedule = get_schedule(actor, schedule_id, READ)
    runs = Paginator(runs_of(schedule).order_by("-id"), RUNS_PAGE).get_page(request.GET.get("page"))
    dataset = datasets.get(schedule.dataset)
    context = {
        "schedule": schedule, "page": runs, "can_write": actor.can(WRITE), "can_admin": actor.can(ADMIN),
        "now": timezone.now(), "dataset_label": dataset.label if dataset else schedule.dataset,
        "example_name": actions.render_file_name(schedule, schedule.next_run_at or timezone.now()),
    }  # fmt: skip
    return render(request, "hub/export_schedules/detail.html", context)


@login_required
@require_POST
def schedule_test(request, schedule_id: int):
    actor = _actor(request)
    schedule = get_schedule(actor, schedule_id, WRITE)
    try:
        messages.success(request, actions.check_connection(actor, schedule))
    except SftpError as exc:
        messages.error(request, f"Connection test failed: {exc.message}")
    return redirect("hub_exports:scheduled_detail", schedule_id=schedule.pk)


@login_required
@require_POST
def schedule_run(request, schedule_id: int):
    actor = _actor(request)
    schedule = get_schedule(actor, schedule_id, WRITE)
    actions.request_run(actor, schedule)
    messages.success(request, "Run queued: it shows below with its outcome (refresh the page).")
    return redirect("hub_exports:scheduled_detail", schedule_id=schedule.pk)


@login_required
@require_POST
def schedule_delete(request, schedule_id: int):
    actor = _actor(request)
    schedule = get_schedule(actor, schedule_id, ADMIN)
    name = schedule.name
    actions.delete_schedule(actor, schedule)
    messages.success(
        request, f"Scheduled export “{name}” deleted; files it wrote stay on the server."
    )
    return redirect("hub_exports:scheduled_list")
