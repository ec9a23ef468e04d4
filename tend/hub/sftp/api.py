"""``/sftp-sources``: scheduled SFTP sources of imports — list and read them (read scope),
create, change and delete them (admin scope), queue a poll now (write scope), and list the
files each has seen with the imports they became. Passwords and private keys are write-only:
no answer holds them, only whether one is stored."""

import datetime
from typing import Literal

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tend.hub.sftp import actions
from tend.hub.sftp.models import RemoteFile, SftpSource
from tend.hub.sftp.queries import files_of, get_source, sources_of
from tend.hub.sftp.schemas import LoginIn, LoginOut, LoginPatch
from tend.lib.api_schemas import ERRORS, PageFilters
from tend.lib.cursor import encode_cursor, id_cursor, id_page
from tend.workspaces.access import ADMIN, READ, WRITE

router = Router(tags=["imports"])

ObjectName = Literal["account", "user", "contact", "usage", "metric", "task", "touchpoint", "assignment"]


class SourceOut(LoginOut):
    id: int
    name: str
    folder: str
    pattern: str
    object: str
    mapping: str = Field(..., description="The saved mapping's name.")
    source_name: str
    after_import: Literal["archive", "leave"]
    archive_folder: str
    every_minutes: int
    enabled: bool
    next_poll_at: datetime.datetime
    last_poll_at: datetime.datetime | None
    last_poll_status: Literal["never", "ok", "failed"]
    last_error: str
    last_success_at: datetime.datetime | None
    failures: int = Field(..., description="Failed polls since the last good one.")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class SourceIn(LoginIn):
    name: str = Field(..., max_length=80)
    folder: str = Field(..., max_length=500)
    pattern: str = Field("*.csv", max_length=200, description="A glob on file names.")
    object: ObjectName
    mapping: str = Field(..., description="The name of a saved mapping for this object.")
    source_name: str = Field("SFTP", max_length=40)
    after_import: Literal["archive", "leave"] = "archive"
    archive_folder: str = Field("", max_length=500)
    every_minutes: int = Field(15, description="5 to 10080.")
    enabled: bool = True


class SourcePatch(LoginPatch):
    name: str | None = Field(None, max_length=80)
    folder: str | None = Field(None, max_length=500)
    pattern: str | None = Field(None, max_length=200)
    object: ObjectName | None = None
    mapping: str | None = None
    source_name: str | None = Field(None, max_length=40)
    after_import: Literal["archive", "leave"] | None = None
    archive_folder: str | None = Field(None, max_length=500)
    every_minutes: int | None = None
    enabled: bool | None = None


class SourcePage(Schema):
    items: list[SourceOut]
    next_cursor: str | None


class FileOut(Schema):
    id: int
    path: str
    size: int
    mtime: datetime.datetime
    state: Literal["waiting", "imported", "duplicate", "rejected"]
    sha256: str
    import_id: int | None
    import_url: str | None
    duplicate_of: int | None
    archived_to: str
    error: str
    first_seen_at: datetime.datetime
    last_seen_at: datetime.datetime
    done_at: datetime.datetime | None


class FilePage(Schema):
    items: list[FileOut]
    next_cursor: str | None


class PollOut(Schema):
    job_id: int
    due_at: datetime.datetime


def source_out(s: SftpSource) -> dict:
    return {
        **{n: getattr(s, n) for n in SourceOut.model_fields if n != "mapping"},
        "mapping": s.mapping.name,
    }


def file_out(f: RemoteFile) -> dict:
    return {
        "id": f.pk,
        "path": f.path,
        "size": f.size,
        "mtime": datetime.datetime.fromtimestamp(f.mtime, datetime.UTC),
        "state": f.state,
        "sha256": f.sha256,
        "import_id": f.import_run_id,
        "import_url": f"/api/v1/imports/{f.import_run_id}" if f.import_run_id else None,
        "duplicate_of": f.duplicate_of_id,
        "archived_to": f.archived_to,
        "error": f.error,
        "first_seen_at": f.first_seen_at,
        "last_seen_at": f.last_seen_at,
        "done_at": f.done_at,
    }


@router.get("/sftp-sources", response={200: SourcePage, **ERRORS}, summary="List SFTP sources")
def list_sources(request, filters: Query[PageFilters]):
    actor = request.auth
    actor.require(READ)
    rows = sources_of(actor)
    rows, next_cursor = id_page(rows, filters.cursor, filters.limit)
    return {"items": [source_out(s) for s in rows], "next_cursor": next_cursor}


@router.post(
    "/sftp-sources",
    response={201: SourceOut, **ERRORS},
    summary="Create an SFTP source",
    description=(
        "Polled every `every_minutes` (5 to 10080) for files in `folder` matching `pattern`. A "
        "file is imported once complete — its size and modification time unchanged across two "
        "polls, or a `<name>.done` file beside it — with the saved mapping named `mapping`, and "
        "only if the same content was not imported from this source before. The host key is "
        "trusted on the first connection and a changed one refused."
    ),
)
def create_source(request, payload: SourceIn):
    return Status(201, source_out(actions.create_source(request.auth, payload.dict())))


@router.get(
    "/sftp-sources/{int:id}", response={200: SourceOut, **ERRORS}, summary="Get an SFTP source"
)
def get_one(request, id: int):
    return source_out(get_source(request.auth, id, READ))


@router.patch(
    "/sftp-sources/{int:id}", response={200: SourceOut, **ERRORS}, summary="Change an SFTP source"
)
def patch_source(request, id: int, payload: SourcePatch):
    """Fields left out keep their value; a blank password or key keeps the stored one."""
    source = get_source(request.auth, id, ADMIN)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return source_out(actions.update_source(request.auth, source, data))


@router.delete(
    "/sftp-sources/{int:id}", response={204: None, **ERRORS}, summary="Delete an SFTP source"
)
def delete_source(request, id: int):
    """Its record of files goes with it; the imports it made stay."""
    actions.delete_source(request.auth, get_source(request.auth, id, ADMIN))
    return Status(204, None)


@router.post(
    "/sftp-sources/{int:id}/poll",
    response={202: PollOut, **ERRORS},
    summary="Poll an SFTP source now",
    description="Queues a poll (one at most is queued per source); its outcome shows in the source's `last_poll_status` and files.",
)
def poll(request, id: int):
    job = actions.request_poll(request.auth, get_source(request.auth, id, WRITE))
    return Status(202, {"job_id": job.pk, "due_at": job.due_at})


@router.get(
    "/sftp-sources/{int:id}/files",
    response={200: FilePage, **ERRORS},
    summary="List the files an SFTP source has seen",
    description="Newest first: each version of a file seen, its state and the import it became.",
)
def list_files(request, id: int, filters: Query[PageFilters]):
    source = get_source(request.auth, id, READ)
    rows = files_of(source).select_related(None)
    before = id_cursor(filters.cursor, "before")
    if before is not None:
        rows = rows.filter(id__lt=before)
    rows = list(rows.order_by("-id")[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {
        "items": [file_out(f) for f in rows],
        "next_cursor": encode_cursor({"before": rows[-1].pk}) if more else None,
    }
