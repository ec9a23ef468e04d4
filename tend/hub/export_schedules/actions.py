"""The write path of scheduled exports: create, change and delete them (admins), test the
destination, and queue a run now. A run's body is ``tend.hub.export_schedules.running``.

The destination's log-in fields are checked and stored as an SFTP source's are
(``tend.hub.sftp.actions.clean_login``): the password or key sealed, write-only, required
when new and kept when left blank; a new host or port forgets the trusted host key."""

from __future__ import annotations

import string
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from tend.hub.export_schedules.models import (
    MAX_EVERY_HOURS,
    ExportFormat,
    ExportRun,
    ExportSchedule,
    RunStatus,
    RunTrigger,
    ScheduleKind,
)
from tend.hub.sftp.actions import (
    apply_values,
    clean_folder,
    clean_int,
    clean_login,
    clean_text,
    credentials,
    forget_host_key_if_moved,
    remember_host_key,
)
from tend.hub.sftp.client import Connection
from tend.jobs.registry import enqueue
from tend.lib import datasets
from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, WRITE, Actor

RUN_JOB = "hub.export_run"
FIELDS = (
    "name", "dataset", "format", "host", "port", "username", "auth_method", "password",
    "private_key", "folder", "file_name", "schedule", "time_of_day", "every_hours", "enabled",
)  # fmt: skip
DEFAULT_FILE_NAME = "{dataset}-{date}.{ext}"
PLACEHOLDERS = ("dataset", "date", "time", "timestamp", "ext")
EXTENSIONS = {ExportFormat.CSV: "csv", ExportFormat.PARQUET: "parquet"}


def check_file_name(template: str) -> str:
    """A file name template: text with ``{dataset}``, ``{date}``, ``{time}``, ``{timestamp}``
    and ``{ext}``; no folder, not hidden, nothing else in braces."""
    if "/" in template or "\\" in template or "\x00" in template:
        raise InvalidInput(
            "file_name", "is a file name, without a folder; put the folder in folder"
        )
    if template.startswith("."):
        raise InvalidInput(
            "file_name", "may not start with a dot (hidden names are for part files)"
        )
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InvalidInput(
            "file_name", f"is not a valid template ({exc}); write {{{{ for a brace"
        ) from None
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            raise InvalidInput(
                "file_name",
                f"{{{field}}} is not a placeholder; use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}",
            )
        if spec or conversion:
            raise InvalidInput("file_name", f"{{{field}}} takes no format or conversion")
    if template.endswith(".part"):
        raise InvalidInput("file_name", "may not end in .part")
    return template


def render_file_name(schedule: ExportSchedule, when: datetime) -> str:
    """The file name of a run that started at ``when`` (dates on the workspace's clock)."""
    local = when.astimezone(ZoneInfo(schedule.workspace.time_zone or "UTC"))
    return schedule.file_name.format(
        dataset=schedule.dataset,
        date=local.strftime("%Y-%m-%d"),
        time=local.strftime("%H%M"),
        timestamp=local.strftime("%Y%m%dT%H%M%S"),
        ext=EXTENSIONS[schedule.format],
    )


def _time(value) -> time:
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip()).replace(second=0, microsecond=0)
        except ValueError:
            pass
    raise InvalidInput("time_of_day", "expected a time such as 06:30")


def _clean(actor: Actor, data: dict, schedule: ExportSchedule | None) -> dict:
    unknown = sorted(set(data) - set(FIELDS) - {"trust_new_host_key"})
    if unknown:
        raise InvalidInput(unknown[0], "is not a field of a scheduled export")
    current = {}
    if schedule is not None:
        current = {f: getattr(schedule, f) for f in FIELDS if f not in ("password", "private_key")}
    merged = {**current, **{k: v for k, v in data.items() if k in FIELDS}}
    out = {"name": clean_text(merged, "name", 80)}
    key = clean_text(merged, "dataset", 60)
    if datasets.get(key) is None:
        known = ", ".join(d.key for d in datasets.datasets())
        raise InvalidInput("dataset", f"no dataset {key!r}; one of {known}")
    out["dataset"] = key
    fmt = merged.get("format") or ExportFormat.CSV
    if fmt not in ExportFormat.values:
        raise InvalidInput("format", f"must be one of {', '.join(ExportFormat.values)}")
    out["format"] = fmt
    out.update(clean_login(merged, data, schedule))
    out["folder"] = clean_folder(merged, "folder")
    if merged.get("file_name") is None:
        merged["file_name"] = DEFAULT_FILE_NAME
    out["file_name"] = check_file_name(clean_text(merged, "file_name", 200))
    kind = merged.get("schedule") or ScheduleKind.DAILY
    if kind not in ScheduleKind.values:
        raise InvalidInput("schedule", f"must be one of {', '.join(ScheduleKind.values)}")
    out["schedule"] = kind
    if kind == ScheduleKind.DAILY:
        if merged.get("time_of_day") in (None, ""):
            raise InvalidInput("time_of_day", "is required for a daily export")
        out["time_of_day"] = _time(merged["time_of_day"])
    else:
        out["time_of_day"] = _time(merged["time_of_day"]) if merged.get("time_of_day") else None
    out["every_hours"] = (
        clean_int(merged, "every_hours", 1, MAX_EVERY_HOURS)
        if merged.get("every_hours") not in (None, "")
        else 24
    )
    enabled = merged.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidInput("enabled", "expected true or false")
    out["enabled"] = enabled
    clash = ExportSchedule.objects.filter(workspace=actor.workspace, name=out["name"])
    if schedule is not None:
        clash = clash.exclude(pk=schedule.pk)
    if clash.exists():
        raise InvalidInput("name", f"another scheduled export is called {out['name']!r}")
    return out


@transaction.atomic
def create_schedule(actor: Actor, data: dict) -> ExportSchedule:
    actor.require(ADMIN)
    values = _clean(actor, data, None)
    schedule = ExportSchedule(workspace=actor.workspace, created_by=actor.member)
    apply_values(schedule, values)
    schedule.next_run_at = schedule.next_after(timezone.now())
    schedule.save()
    return schedule


@transaction.atomic
def update_schedule(actor: Actor, schedule: ExportSchedule, data: dict) -> ExportSchedule:
    """Change a schedule; its next run is worked out again from now."""
    actor.require(ADMIN)
    values = _clean(actor, data, schedule)
    before = (schedule.host, schedule.port)
    apply_values(schedule, values)
    forget_host_key_if_moved(schedule, before, data)
    schedule.next_run_at = schedule.next_after(timezone.now())
    schedule.updated_at = timezone.now()
    schedule.save()
    return schedule


@transaction.atomic
def delete_schedule(actor: Actor, schedule: ExportSchedule) -> None:
    """Delete a schedule and its run history (files written stay on the server)."""
    actor.require(ADMIN)
    schedule.delete()


def queue_run(schedule: ExportSchedule, trigger: str, member=None) -> ExportRun:
    """A run of ``schedule`` and its job; a run still queued is handed back instead of a
    second one (pressing Run now twice writes once)."""
    with transaction.atomic():
        waiting = ExportRun.objects.filter(schedule=schedule, status=RunStatus.QUEUED).first()
        if waiting is not None:
            return waiting
        run = ExportRun.objects.create(
            workspace_id=schedule.workspace_id,
            schedule=schedule,
            trigger=trigger,
            requested_by=member,
        )
        ExportSchedule.objects.filter(pk=schedule.pk).update(last_status=RunStatus.QUEUED)
        enqueue(
            RUN_JOB,
            {"run_id": run.pk},
            workspace_id=schedule.workspace_id,
            unique_key=f"{RUN_JOB}:{run.pk}",
        )
    return run


def request_run(actor: Actor, schedule: ExportSchedule) -> ExportRun:
    """Run now (the write right, as an SFTP source's Poll now)."""
    actor.require(WRITE)
    return queue_run(schedule, RunTrigger.MANUAL, actor.member)


def check_connection(actor: Actor, schedule: ExportSchedule) -> str:
    """Connect, log in and look at the folder; say what was found (or raise SftpError)."""
    actor.require(WRITE)
    with Connection(credentials(schedule)) as conn:
        remember_host_key(schedule, conn.fingerprint)
        found = conn.exists(schedule.folder)
        files = [e for e in conn.listdir(schedule.folder) if e.is_file] if found else []
    said = f"Connected to {schedule.host}:{schedule.port} as {schedule.username} (host key {conn.fingerprint}). "
    if not found:
        return said + f"{schedule.folder} does not exist yet: the first run makes it."
    return (
        said + f"{schedule.folder} holds {len(files)} file{'s' if len(files) != 1 else ''}; "
        "exports are written there."
    )
