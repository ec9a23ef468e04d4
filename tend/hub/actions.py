"""The data hub's one write path: uploading a file, mapping it, saving mappings, starting a
dry run or a run, and naming the source that owns an attribute."""

import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tend.hub.mapping import NEW_PREFIX, OBJECT_TYPES, Fields
from tend.hub.models import (
    ATTRIBUTE_OBJECTS,
    FieldOwner,
    Import,
    ImportObject,
    ImportStatus,
    SavedMapping,
    UnknownColumns,
)
from tend.hub.reading import detect
from tend.jobs.registry import enqueue
from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, WRITE, Actor

RUN_JOB = "hub.run_import"
SOURCE_MAX = 40


def import_dir() -> Path:
    path = Path(settings.TEND_IMPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def clean_source(value) -> str:
    source = (value or "").strip() if isinstance(value, str | None) else None
    if source is None:
        raise InvalidInput("source", "expected text")
    if len(source) > SOURCE_MAX:
        raise InvalidInput("source", f"is longer than {SOURCE_MAX} characters")
    return source or "CSV import"


def upload_file(actor: Actor, upload, *, object: str, sheet: str = "", source: str = "") -> Import:
    """Store an uploaded file on disk (copied in blocks: never held whole in memory), read its
    header row, and create a draft import with the suggested mapping."""
    actor.require(WRITE)
    if object not in ImportObject.values:
        raise InvalidInput("object", f"must be one of {', '.join(ImportObject.values)}")
    if upload is None:
        raise InvalidInput("file", "is required: a CSV or XLSX file")
    limit = settings.TEND_IMPORT_MAX_BYTES
    if upload.size > limit:
        raise InvalidInput("file", f"is {upload.size} bytes; the limit is {limit} bytes")
    if upload.size == 0:
        raise InvalidInput("file", "is empty: expected a header row naming the columns")
    source = clean_source(source)
    name = Path(upload.name or "upload").name[:255]
    suffix = ".xlsx" if name.lower().endswith((".xlsx", ".xlsm")) else ".csv"
    workspace_dir = import_dir() / str(actor.workspace.pk)
    workspace_dir.mkdir(exist_ok=True)
    stored = f"{actor.workspace.pk}/{uuid.uuid4().hex}{suffix}"
    path = import_dir() / stored
    with open(path, "wb") as out:
        for block in upload.chunks():
            out.write(block)
    try:
        info = detect(path, name, sheet)
        fields = Fields(actor.workspace, object)
        return Import.objects.create(
            workspace=actor.workspace,
            object=object,
            source=source,
            file_name=name,
            stored_name=stored,
            size=path.stat().st_size,
            format=info.format,
            encoding=info.encoding,
            delimiter=info.delimiter,
            sheet=sheet,
            sheets=info.sheets,
            headers=info.headers,
            mapping=fields.suggest(info.headers),
            created_by=actor.member,
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise



def discard_draft(imp: Import) -> None:
    """Forget an upload that could not be started (its file too)."""
    if imp.status == ImportStatus.DRAFT:
        (import_dir() / imp.stored_name).unlink(missing_ok=True)
        imp.delete()


@transaction.atomic
def choose_sheet(actor: Actor, imp: Import, sheet: str) -> Import:
    """Read another sheet of a draft XLSX import: its header row and suggested mapping."""
    actor.require(WRITE)
    if imp.status != ImportStatus.DRAFT:
        raise InvalidInput("sheet", "this import has already started; upload the file again to change its sheet")
    if sheet not in imp.sheets:
        raise InvalidInput("sheet", f"no sheet named {sheet!r}; the file has {', '.join(imp.sheets) or 'none'}")
    info = detect(import_dir() / imp.stored_name, imp.file_name, sheet)
    imp.sheet, imp.headers = sheet, info.headers
    imp.mapping = Fields(actor.workspace, imp.object).suggest(info.headers)
    imp.save(update_fields=["sheet", "headers", "mapping"])
    return imp


@transaction.atomic
def set_mapping(
    actor: Actor, imp: Import, mapping, *, unknown: str = UnknownColumns.IGNORE, source: str | None = None,
    save_as: str = "",
) -> Import:
    """Check and store the mapping of a draft import (every column resolved); with
    ``save_as``, keep it by that name for later files too."""
    actor.require(WRITE)
    if imp.status != ImportStatus.DRAFT:
        raise InvalidInput("mapping", "this import has already started; upload the file again to change its mapping")
    fields = Fields(actor.workspace, imp.object)
    checked = fields.check(mapping, imp.headers, unknown)
    creates = [h for h, f in checked.items() if f.startswith(NEW_PREFIX)]
    if creates and not actor.can(ADMIN):
        # Attributes are the data model's, which admins shape (as in the data model pages).
        raise InvalidInput(
            "mapping", f"creating attributes (for {', '.join(map(repr, creates))}) needs an admin seat; ignore those columns or ask an admin"
        )
    imp.mapping = checked
    imp.unknown_columns = unknown
    if source is not None:
        imp.source = clean_source(source)
    imp.save(update_fields=["mapping", "unknown_columns", "source"])
    if save_as:
        save_mapping(actor, imp.object, save_as, imp.mapping, unknown)
    return imp


def save_mapping(actor: Actor, object: str, name, columns: dict, unknown: str) -> SavedMapping:
    actor.require(WRITE)
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("mapping_name", "is required")
    name = name.strip()
    if len(name) > 80:
        raise InvalidInput("mapping_name", "is longer than 80 characters")
    saved, _ = SavedMapping.objects.update_or_create(
        workspace=actor.workspace, object=object, name=name,
        defaults={"columns": columns, "unknown_columns": unknown, "updated_at": timezone.now()},
    )
    return saved


def saved_mapping(actor: Actor, object: str, name) -> SavedMapping:
    found = SavedMapping.objects.filter(workspace=actor.workspace, object=object, name=name).first()
    if found is None:
        raise InvalidInput("mapping_name", f"no saved mapping named {name!r} for {object} imports")
    return found


def mapping_from_saved(saved: SavedMapping, headers: list[str]) -> dict[str, str]:
    """A saved mapping applied to a file: its columns that the file has (others: unknown)."""
    return {h: saved.columns[h] for h in headers if h in saved.columns}


@transaction.atomic
def start_import(actor: Actor, imp: Import, *, dry_run: bool) -> Import:
    """Queue a draft import (a dry run or the real thing), or, from a finished dry run, queue
    the real run of the same file and mapping as a new import."""
    actor.require(WRITE)
    if imp.status == ImportStatus.DRAFT:
        Fields(actor.workspace, imp.object).check(imp.mapping, imp.headers, imp.unknown_columns)
        run = imp
        run.dry_run = dry_run
    elif imp.dry_run and imp.is_finished and not dry_run:
        run = Import.objects.create(
            workspace=imp.workspace, object=imp.object, source=imp.source, dry_run=False, dry_run_of=imp,
            file_name=imp.file_name, stored_name=imp.stored_name, size=imp.size, format=imp.format,
            encoding=imp.encoding, delimiter=imp.delimiter, sheet=imp.sheet, sheets=imp.sheets,
            headers=imp.headers, mapping=imp.mapping, unknown_columns=imp.unknown_columns,
            created_by=actor.member,
        )
    else:
        raise InvalidInput("status", f"this import is {imp.get_status_display().lower()}; only a draft or a finished dry run can be started")
    run.status = ImportStatus.QUEUED
    job = enqueue(RUN_JOB, {"import_id": run.pk}, workspace_id=run.workspace_id)
    run.job_id = job.pk
    run.save(update_fields=["status", "dry_run", "job_id"])
    return run


@transaction.atomic
def set_field_owner(actor: Actor, object: str, key: str, source: str) -> FieldOwner | None:
    """Make ``source`` the source of truth for an attribute (an empty source: nobody)."""
    actor.require(ADMIN)
    if object not in ATTRIBUTE_OBJECTS:
        raise InvalidInput("object", f"must be one of {', '.join(ATTRIBUTE_OBJECTS)}")
    fields = Fields(actor.workspace, object)
    if key not in fields.definitions:
        raise InvalidInput("key", f"no {OBJECT_TYPES[object]} attribute with key {key!r}")
    source = (source or "").strip()
    if not source:
        FieldOwner.objects.filter(workspace=actor.workspace, object=object, key=key).delete()
        return None
    owner, _ = FieldOwner.objects.update_or_create(
        workspace=actor.workspace, object=object, key=key, defaults={"source": clean_source(source)}
    )
    return owner
