"""``/export-schedules``: scheduled exports of a dataset to an SFTP server — list and read
them and their runs (read scope), create, change and delete them (admin scope), and queue a
run now (write scope). Passwords and private keys are write-only: no answer holds them,
only whether one is stored."""

import datetime
from typing import Literal

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tend.hub.export_schedules import actions
from tend.hub.export_schedules.models import ExportRun, ExportSchedule
from tend.hub.export_schedules.queries import get_schedule, runs_of, schedules_of
from tend.hub.sftp.schemas import LoginIn, LoginOut, LoginPatch
from tend.lib.api_schemas import ERRORS, PageFilters
from tend.lib.cursor import encode_cursor, id_cursor, id_page
from tend.workspaces.access import ADMIN, READ, WRITE

router = Router(tags=["exports"])

Status_ = Literal["never", "queued", "running", "retrying", "succeeded", "failed"]


class ScheduleOut(LoginOut):
    id: int
    name: str
    dataset: str
    format: Literal["csv", "parquet"]
    folder: str
    file_name: str
    schedule: Literal["daily", "hours"]
    time_of_day: str | None = Field(..., description="HH:MM on the workspace's clock (daily).")
    every_hours: int
    enabled: bool
    next_run_at: datetime.datetime | None
    last_run_at: datetime.datetime | None
    last_status: Status_
    last_error: str
    last_rows: int | None
    last_bytes: int | None
    last_success_at: datetime.datetime | None
    failures: int = Field(..., description="Failed runs since the last good one.")
    created_at: datetime.datetime
    updated_at: datetime.datetime


DESCRIPTIONS = {
    "dataset": "A dataset key, as GET /exports lists.",
    "file_name": "A template: {dataset}, {date}, {time}, {timestamp}, {ext} (workspace's clock).",
    "time_of_day": "HH:MM on the workspace's clock; required for daily.",
    "every_hours": "1 to 168, for schedule = hours.",
}


class ScheduleIn(LoginIn):
    name: str = Field(..., max_length=80)
    dataset: str = Field(..., max_length=60, description=DESCRIPTIONS["dataset"])
    format: Literal["csv", "parquet"] = "csv"
    folder: str = Field("/", max_length=500)
    file_name: str = Field(
        "{dataset}-{date}.{ext}", max_length=200, description=DESCRIPTIONS["file_name"]
    )
    schedule: Literal["daily", "hours"] = "daily"
    time_of_day: str | None = Field(None, description=DESCRIPTIONS["time_of_day"])
    every_hours: int = Field(24, description=DESCRIPTIONS["every_hours"])
    enabled: bool = True


class SchedulePatch(LoginPatch):
    name: str | None = Field(None, max_length=80)
    dataset: str | None = Field(None, max_length=60)
    format: Literal["csv", "parquet"] | None = None
    folder: str | None = Field(None, max_length=500)
    file_name: str | None = Field(None, max_length=200)
    schedule: Literal["daily", "hours"] | None = None
    time_of_day: str | None = None
    every_hours: int | None = None
    enabled: bool | None = None


class SchedulePage(Schema):
    items: list[ScheduleOut]
    next_cursor: str | None


class RunOut(Schema):
    id: int
    trigger: Literal["schedule", "manual"]
    status: Status_
    attempts: int
    path: str = Field(..., description="The file written (empty until it is).")
    rows: int | None
    bytes: int | None
    duration_ms: int | None
    error: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None


class RunPage(Schema):
    items: list[RunOut]
    next_cursor: str | None


def schedule_out(s: ExportSchedule) -> dict:
    return {
        **{n: getattr(s, n) for n in ScheduleOut.model_fields if n != "time_of_day"},
        "time_of_day": f"{s.time_of_day:%H:%M}" if s.time_of_day else None,
    }


def run_out(r: ExportRun) -> dict:
    return {n: getattr(r, n) for n in RunOut.model_fields}


@router.get(
    "/export-schedules", response={200: SchedulePage, **ERRORS}, summary="List scheduled exports"
)
def list_schedules(request, filters: Query[PageFilters]):
    actor = request.auth
    actor.require(READ)
    rows = schedules_of(actor)
    rows, next_cursor = id_page(rows, filters.cursor, filters.limit)
    return {"items": [schedule_out(s) for s in rows], "next_cursor": next_cursor}


@router.post(
    "/export-schedules",
    response={201: ScheduleOut, **ERRORS},
    summary="Create a scheduled export",
    description=(
        "Writes `dataset` as `format` to `folder` on the SFTP server, daily at `time_of_day` "
        "(the workspace's clock) or every `every_hours` hours. Each file is uploaded as "
        "`.<name>.part` and renamed once complete. The host key is trusted on the first "
        "connection and a changed one refused."
    ),
)
def create_schedule(request, payload: ScheduleIn):
    return Status(201, schedule_out(actions.create_schedule(request.auth, payload.dict())))


@router.get(
    "/export-schedules/{int:id}",
    response={200: ScheduleOut, **ERRORS},
    summary="Get a scheduled export",
)
def get_one(request, id: int):
    return schedule_out(get_schedule(request.auth, id, READ))


@router.patch(
    "/export-schedules/{int:id}",
    response={200: ScheduleOut, **ERRORS},
    summary="Change a scheduled export",
)
def patch_schedule(request, id: int, payload: SchedulePatch):
    """Fields left out keep their value; a blank password or key keeps the stored one."""
    schedule = get_schedule(request.auth, id, ADMIN)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return schedule_out(actions.update_schedule(request.auth, schedule, data))


@router.delete(
    "/export-schedules/{int:id}",
    response={204: None, **ERRORS},
    summary="Delete a scheduled export",
)
def delete_schedule(request, id: int):
    """Its run history goes with it; files written stay on the server."""
    actions.delete_schedule(request.auth, get_schedule(request.auth, id, ADMIN))
    return Status(204, None)


@router.post(
    "/export-schedules/{int:id}/run",
    response={202: RunOut, **ERRORS},
    summary="Run a scheduled export now",
    description="Queues a run (a run still queued is answered instead of a second one); "
    "follow it with GET …/runs.",
)
def run_now(request, id: int):
    run = actions.request_run(request.auth, get_schedule(request.auth, id, WRITE))
    return Status(202, run_out(run))


@router.get(
    "/export-schedules/{int:id}/runs",
    response={200: RunPage, **ERRORS},
    summary="List a scheduled export's runs",
    description="Newest first: status, rows and bytes written, duration, error.",
)
def list_runs(request, id: int, filters: Query[PageFilters]):
    schedule = get_schedule(request.auth, id, READ)
    rows = runs_of(schedule)
    before = id_cursor(filters.cursor, "before")
    if before is not None:
        rows = rows.filter(id__lt=before)
    rows = list(rows.order_by("-id")[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {
        "items": [run_out(r) for r in rows],
        "next_cursor": encode_cursor({"before": rows[-1].pk}) if more else None,
    }
