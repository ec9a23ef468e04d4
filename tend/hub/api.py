"""``/imports``: upload a CSV or XLSX file and import it (or dry-run it), read its progress
and counts, and download its rejected rows as CSV.

``POST /imports`` takes multipart form data: ``file``, ``object`` (``account``, ``user``,
``contact``, ``usage``, ``metric``, ``task``, ``touchpoint`` or ``assignment``),
``mapping`` (JSON: column → field) or ``mapping_name`` (a saved mapping; neither: the
suggested mapping), ``unknown_columns`` (``ignore`` or ``create``), ``source`` and
``dry_run``. The import runs as a background job; poll ``GET /imports/{id}``.
"""

import datetime
import json
from typing import Literal

from django.conf import settings
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from tend.accounts.schemas import ErrorOut
from tend.hub import actions
from tend.hub.models import Import, ImportObject
from tend.hub.queries import errors_response, get_import, imports_of
from tend.lib.cursor import encode_cursor, id_cursor
from tend.lib.errors import InvalidInput
from tend.workspaces.access import READ, WRITE

router = Router(tags=["imports"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 413: ErrorOut, 422: ErrorOut}


class CountsOut(Schema):
    created: int
    updated: int
    unchanged: int
    rejected: int


class ImportOut(Schema):
    id: int
    object: str
    status: str = Field(..., description="draft, queued, running, succeeded, partial (some rows rejected) or failed.")
    dry_run: bool = Field(..., description="A dry run writes nothing: its counts say what a run would do.")
    dry_run_of: int | None
    source: str
    file_name: str
    format: str
    encoding: str
    delimiter: str
    sheet: str
    headers: list[str]
    mapping: dict[str, str]
    unknown_columns: str
    rows_total: int | None
    rows_done: int
    progress: int = Field(..., description="Percent of the rows done.")
    counts: CountsOut
    notes: list[str]
    error: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    duration_seconds: float | None
    errors_url: str


class ImportPage(Schema):
    items: list[ImportOut]
    next_cursor: str | None


class ImportFilters(Schema):
    limit: int = Field(settings.TEND_PAGE_SIZE_DEFAULT, ge=1, le=settings.TEND_PAGE_SIZE_MAX)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")
    status: Literal["draft", "queued", "running", "succeeded", "partial", "failed"] | None = None


def import_out(imp: Import) -> dict:
    duration = imp.duration
    return {
        "id": imp.pk, "object": imp.object, "status": imp.status, "dry_run": imp.dry_run,
        "dry_run_of": imp.dry_run_of_id, "source": imp.source, "file_name": imp.file_name,
        "format": imp.format, "encoding": imp.encoding, "delimiter": imp.delimiter, "sheet": imp.sheet,
        "headers": imp.headers, "mapping": imp.mapping, "unknown_columns": imp.unknown_columns,
        "rows_total": imp.rows_total, "rows_done": imp.rows_done, "progress": imp.percent,
        "counts": {"created": imp.created, "updated": imp.updated, "unchanged": imp.unchanged, "rejected": imp.rejected},
        "notes": imp.notes, "error": imp.error, "created_at": imp.created_at, "started_at": imp.started_at,
        "finished_at": imp.finished_at, "duration_seconds": duration.total_seconds() if duration else None,
        "errors_url": f"/api/v1/imports/{imp.pk}/errors",
    }


def parse_mapping(text: str | None):
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput("mapping", f"is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidInput("mapping", "expected a JSON object of column name → field")
    return value


@router.post(
    "/imports",
    response={202: ImportOut, **ERRORS},
    summary="Upload a file and import it",
    description=(
        "Multipart form: `file` (CSV — UTF-8 with or without BOM, UTF-16 or Latin-1; comma, "
        "semicolon or tab — or XLSX, up to 100 MB), `object`, `mapping` (JSON object of "
        "column → field: `external_id`, `name`, `attributes.<key>`, `new.<key>`, or \"\" to "
        "ignore) or `mapping_name`, `unknown_columns`, `sheet`, `source`, `dry_run`. Answers "
        "202 with the queued import; every row is keyed by `external_id`, so nothing is "
        "created twice. Records (`usage`, `metric`, `task`, `touchpoint`, `assignment`) have "
        "their own fields and a key made of several of them: see docs/imports.md."
    ),
)
def create_import(
    request,
    file: File[UploadedFile] = None,
    object: Form[Literal["account", "user", "contact", "usage", "metric", "task", "touchpoint", "assignment"]] = None,
    mapping: Form[str] = None,
    mapping_name: Form[str] = None,
    unknown_columns: Form[Literal["ignore", "create"]] = "ignore",
    sheet: Form[str] = "",
    source: Form[str] = "",
    dry_run: Form[bool] = False,
):
    actor = request.auth
    actor.require(WRITE)
    if object is None:
        raise InvalidInput("object", f"is required: one of {', '.join(ImportObject.values)}")
    if file is None:
        raise InvalidInput("file", "is required: a CSV or XLSX file")
    columns = parse_mapping(mapping)
    if columns is not None and mapping_name:
        raise InvalidInput("mapping_name", "send mapping or mapping_name, not both")
    if mapping_name:
        saved = actions.saved_mapping(actor, object, mapping_name)
    imp = actions.upload_file(actor, file, object=object, sheet=sheet, source=source)
    try:
        if mapping_name:
            columns = actions.mapping_from_saved(saved, imp.headers)
            unknown_columns = saved.unknown_columns
        if columns is None:
            columns = {h: f for h, f in imp.mapping.items() if f}
        actions.set_mapping(actor, imp, columns, unknown=unknown_columns)
        imp = actions.start_import(actor, imp, dry_run=dry_run)
    except InvalidInput:
        actions.discard_draft(imp)
        raise
    return Status(202, import_out(imp))


@router.post(
    "/imports/{id}/run",
    response={202: ImportOut, **ERRORS},
    summary="Run a finished dry run for real",
    description="Queues the import of the dry run's file with its mapping, as a new import (the dry run keeps its report). 422 naming `status` unless the import is a finished dry run.",
)
def run_dry_run(request, id: int):
    actor = request.auth
    imp = get_import(actor, id, WRITE)
    return Status(202, import_out(actions.start_import(actor, imp, dry_run=False)))


@router.get(
    "/imports",
    response={200: ImportPage, **ERRORS},
    summary="The workspace's imports, newest first",
    description="Every import and dry run with its status and counts, paged by cursor.",
)
def list_imports(request, filters: Query[ImportFilters]):
    actor = request.auth
    actor.require(READ)
    imports = imports_of(actor).select_related(None)
    if filters.status:
        imports = imports.filter(status=filters.status)
    before = id_cursor(filters.cursor)
    if before is not None:
        imports = imports.filter(id__lt=before)
    rows = list(imports.order_by("-id")[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {
        "items": [import_out(imp) for imp in rows],
        "next_cursor": encode_cursor({"id": rows[-1].pk}) if more else None,
    }


@router.get("/imports/{id}", response={200: ImportOut, **ERRORS}, summary="An import's status, progress and counts")
def get_one(request, id: int):
    return import_out(get_import(request.auth, id, READ))


@router.get(
    "/imports/{id}/errors",
    response={200: None, **ERRORS},
    summary="The rows an import rejected, as CSV",
    description="Columns: `row` (its number in the file, the header being 1), `reason`, then the file's columns. Cells that could start a formula are escaped with a leading `'`.",
    openapi_extra={"responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}}},
)
def get_errors(request, id: int):
    return errors_response(get_import(request.auth, id, READ))
