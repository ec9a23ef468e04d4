"""Running an import: whole-file checks, then the rows in chunks, each chunk committed once.

Steps of :func:`run_import` (the job body; safe to run again after a kill):

1. mark the import running (first attempt only) and, for a real run, create the attributes the
   mapping asks for (by key: a second attempt finds them);
2. read the whole file once for its row count and its keys: every row whose key appears more
   than once is rejected, all of them, never merged (which one should win?);
3. read it again from the resume point ``rows_done``: per chunk of ``TEND_IMPORT_CHUNK`` rows,
   check each row's shape, upsert the rest with the accounts app's bulk upsert (keyed by
   external id, so nothing is ever created twice), store the rejected rows, and move
   ``rows_done`` and the counts, all in one transaction. The move is conditional on the
   ``rows_done`` this worker read, so a worker that lost its lease to another rolls back
   instead of counting a chunk twice. A dry run does the same inside a savepoint it rolls
   back: it runs the very code of the real run and writes nothing but its report;
4. mark it succeeded (or done with rejected rows) with its finish time.
"""

import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tend.accounts.actions.definitions.attributes import create_attribute
from tend.accounts.bulk import upsert_accounts, upsert_contacts, upsert_end_users
from tend.accounts.models import Account, AttributeDefinition, AttributeType, Contact, EndUser
from tend.events import emit_many
from tend.hub.mapping import ATTRIBUTE_PREFIX, NEW_PREFIX, OBJECT_TYPES, Fields, RowMapper
from tend.hub.models import FINISHED, Import, ImportObject, ImportStatus, RejectedRow
from tend.hub.objects import KEY_SEPARATOR
from tend.hub.reading import FileInfo, iter_rows
from tend.notifications.actions import notify
from tend.outbox.actions import queue_email
from tend.workspaces.access import Actor, system_actor
from tend.workspaces.models import Member, Seat

log = logging.getLogger("tend.hub")
UPSERT = {
    ImportObject.ACCOUNT: upsert_accounts,
    ImportObject.USER: upsert_end_users,
    ImportObject.CONTACT: upsert_contacts,
}
MODEL = {ImportObject.ACCOUNT: Account, ImportObject.USER: EndUser, ImportObject.CONTACT: Contact}
# How long a row's cells may be kept in the rejected-rows table, per cell.
CELL_MAX = 1000
PREVIEW_ROWS = 10


class LostLease(RuntimeError):
    """Another worker moved this import on while this one was writing a chunk."""


def stored_path(imp: Import) -> Path:
    return Path(settings.TEND_IMPORT_DIR) / imp.stored_name


def file_info(imp: Import) -> FileInfo:
    return FileInfo(format=imp.format, encoding=imp.encoding, delimiter=imp.delimiter, headers=imp.headers)


def data_rows(imp: Import):
    """(row number, cells) of the data rows, the header skipped."""
    rows = iter_rows(stored_path(imp), file_info(imp), imp.sheet)
    next(rows, None)
    return rows


def actor_for(imp: Import) -> Actor:
    """The member who started the import (so history names them, and a member who lost the
    right to write since cannot write through a queued import), or the system for a token."""
    if imp.created_by_id:
        return Actor(workspace=imp.workspace, member=imp.created_by)
    return system_actor(imp.workspace)


class Context:
    """What every chunk of one import needs: the mapping, checked, and how to word errors."""

    def __init__(self, imp: Import):
        self.imp = imp
        self.fields = Fields(imp.workspace, imp.object)
        self.blocked = self.fields.blocked(imp.mapping, imp.source)
        self.record = self.fields.record
        self.mapper = RowMapper(imp.headers, imp.mapping, self.blocked, self.record)
        self.column_of = {}
        for header, field in imp.mapping.items():
            name = field
            if field.startswith(NEW_PREFIX):
                name = ATTRIBUTE_PREFIX + field[len(NEW_PREFIX):]
            if name:
                self.column_of[name] = header
        self.new_attributes = [
            (field[len(NEW_PREFIX):], header)
            for header, field in imp.mapping.items()
            if field.startswith(NEW_PREFIX) and header not in self.blocked
        ]

    def notes(self) -> list[str]:
        out = [
            f"Column “{header}” was not written: its attribute is owned by {owner}, and this import's source is {self.imp.source}."
            for header, owner in self.blocked.items()
        ]
        out += [f"Column “{header}” creates the text attribute “{key}”." for key, header in self.new_attributes]
        return out

    def reason(self, errors: list[dict]) -> str:
        parts = []
        for error in errors:
            field = error.get("field", "")
            column = self.column_of.get(field)
            where = f"{column}" if column else field
            parts.append(f"{where}: {error.get('message', 'is invalid')}")
        return "; ".join(parts)

    @property
    def chunk_size(self) -> int:
        return settings.TEND_IMPORT_CHUNK * (self.record.chunk_factor if self.record else 1)

    def create_attributes(self, actor: Actor) -> None:
        if not self.new_attributes:
            return
        existing = set(
            AttributeDefinition.objects.filter(
                workspace=self.imp.workspace, object_type=OBJECT_TYPES[self.imp.object]
            ).values_list("key", flat=True)
        )
        for key, header in self.new_attributes:
            if key not in existing:
                create_attribute(
                    system_actor(actor.workspace),
                    {"object_type": OBJECT_TYPES[self.imp.object], "key": key, "label": header[:120],
                     "type": AttributeType.TEXT},
                )

    def upsert(self, actor: Actor, items: list[dict]):
        if self.record is not None:
            return Written(self.record.write(actor, items, source=self.imp.source))
        return UPSERT[self.imp.object](actor, items, source=f"import:{self.imp.source}"[:40])


@dataclass
class Written:
    """A record's entries in the shape of the bulk upsert's result."""

    results: list[dict]


def apply_rows(ctx: Context, actor: Actor, rows, duplicates: dict, *, dry_run: bool, earlier: set | None = None):
    """Check and upsert ``rows`` [(number, cells)]; return (counts, rejections, results by
    row number). Call inside a transaction; a dry run's writes are rolled back here.

    ``earlier``: for a dry run, the keys of the rows before these that were not rejected. The
    real run has committed them by now, so a row naming one as its parent finds it; the dry
    run, having rolled them back, stands them in for the moment (see ``_stand_ins``)."""
    counts = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    rejections: list[tuple[int, str, str, list[str]]] = []  # number, key, reason, cells
    items, numbers = [], []
    mapper = ctx.mapper
    # A record's key is a few cells put together: worked out only when it is needed.
    keyed = bool(duplicates) or ctx.record is None
    for number, cells in rows:
        key = mapper.key(cells) if keyed else None
        problem = mapper.shape_problem(cells)
        if problem is None and key in duplicates:
            others = [str(n) for n in duplicates[key] if n != number]
            problem = f"duplicate key {shown_key(key)!r}: also on row{'s' if len(others) > 1 else ''} {', '.join(others[:10])}{' …' if len(others) > 10 else ''}"
        if problem:
            rejections.append((number, shown_key(key if key is not None else mapper.key(cells)), problem, cells))
            continue
        items.append(mapper.item(cells))
        numbers.append((number, key, cells))
    results = {}
    if items:
        savepoint = transaction.savepoint()
        if dry_run:
            ctx.create_attributes(actor)
            if earlier:
                _stand_ins(ctx, items, earlier)
        result = ctx.upsert(actor, items)
        if dry_run:
            transaction.savepoint_rollback(savepoint)
        else:
            transaction.savepoint_commit(savepoint)
        for entry, (number, key, cells) in zip(result.results, numbers, strict=True):
            results[number] = entry
            if entry["status"] == "error":
                key = shown_key(key if key is not None else mapper.key(cells))
                rejections.append((number, key, ctx.reason(entry["errors"]), cells))
            else:
                counts[entry["status"]] += 1
    counts["rejected"] = len(rejections)
    rejections.sort()
    return counts, rejections, results


def shown_key(key: str) -> str:
    """A row's key as people read it: a record's parts joined by " · " (blank ones left out)."""
    return " · ".join(part for part in key.split(KEY_SEPARATOR) if part) if KEY_SEPARATOR in key else key


def _stand_ins(ctx: Context, items: list[dict], earlier: set) -> None:
    """Inside a dry run's savepoint: create, bare, the parents these items name that earlier
    rows of the file would have created, so parent links resolve as in the real run."""
    if ctx.imp.object != ImportObject.ACCOUNT:
        return
    wanted = {p for item in items if (p := item.get("parent_external_id")) and p in earlier}
    if not wanted:
        return
    ws = ctx.imp.workspace
    existing = set()
    wanted_list = sorted(wanted)
    for start in range(0, len(wanted_list), 900):
        existing.update(
            Account.objects.filter(workspace=ws, external_id__in=wanted_list[start : start + 900])
            .values_list("external_id", flat=True)
        )
    now = timezone.now()
    Account.objects.bulk_create(
        [Account(workspace=ws, external_id=key, name=key, created_at=now, updated_at=now) for key in wanted - existing]
    )


def whole_file_pass(imp: Import, mapper: RowMapper) -> tuple[int, dict[str, list[int]]]:
    """The number of data rows, and the keys found on more than one row → their rows."""
    return duplicate_keys(data_rows(imp), mapper)


def duplicate_keys(rows, mapper: RowMapper) -> tuple[int, dict[str, list[int]]]:
    first: dict[str, int] = {}
    duplicates: dict[str, list[int]] = defaultdict(list)
    total = 0
    for number, cells in rows:
        total += 1
        key = mapper.key(cells)
        if not key:
            continue
        if key in first:
            if key not in duplicates:
                duplicates[key].append(first[key])
            duplicates[key].append(number)
        else:
            first[key] = number
    return total, dict(duplicates)


def run_import(import_id: int) -> None:
    started = time.monotonic()
    imp = Import.objects.select_related("workspace", "created_by").get(pk=import_id)
    if imp.status in (ImportStatus.SUCCEEDED, ImportStatus.PARTIAL):
        return  # a finished import run again (its job re-claimed after the last chunk): nothing to do
    now = timezone.now()
    Import.objects.filter(pk=imp.pk, status=ImportStatus.QUEUED).update(status=ImportStatus.RUNNING, started_at=now)
    # A failed import's job retried (Settings → Jobs): carry on after the last committed chunk.
    Import.objects.filter(pk=imp.pk, status=ImportStatus.FAILED).update(
        status=ImportStatus.RUNNING, error="", finished_at=None
    )
    imp.refresh_from_db()
    ctx = Context(imp)
    actor = actor_for(imp)
    if not imp.dry_run:
        with transaction.atomic():
            ctx.create_attributes(actor)
    total, duplicates = whole_file_pass(imp, ctx.mapper)
    Import.objects.filter(pk=imp.pk).update(rows_total=total, notes=ctx.notes())
    chunk_size = ctx.chunk_size
    done = imp.rows_done
    chunk: list = []
    position = 0
    # A dry run of accounts keeps the keys of the rows it has been through (see apply_rows).
    earlier: set | None = set() if imp.dry_run and imp.object == ImportObject.ACCOUNT else None
    rejected_before = set()
    if earlier is not None and done:
        rejected_before = set(RejectedRow.objects.filter(import_run=imp).values_list("row_number", flat=True))
    for row in data_rows(imp):
        position += 1
        if position <= done:  # committed by an earlier attempt
            if earlier is not None and row[0] not in rejected_before:
                earlier.add(ctx.mapper.key(row[1]))
            continue
        chunk.append(row)
        if len(chunk) >= chunk_size:
            done = _commit_chunk(imp, ctx, actor, chunk, duplicates, done, earlier)
            chunk = []
    if chunk:
        done = _commit_chunk(imp, ctx, actor, chunk, duplicates, done, earlier)
    with transaction.atomic():
        imp.refresh_from_db()
        status = ImportStatus.PARTIAL if imp.rejected else ImportStatus.SUCCEEDED
        finished = Import.objects.filter(pk=imp.pk, status=ImportStatus.RUNNING).update(
            status=status, finished_at=timezone.now()
        )
        if finished and status == ImportStatus.PARTIAL:
            imp.refresh_from_db()
            tell_admins(imp)
        if finished:
            imp.refresh_from_db()
            emit_import_events(imp)
    log.info("import %s: %s rows in %.2fs", imp.pk, done, time.monotonic() - started)


def _commit_chunk(
    imp: Import, ctx: Context, actor: Actor, chunk: list, duplicates: dict, done: int, earlier: set | None
) -> int:
    with transaction.atomic():
        counts, rejections, _ = apply_rows(ctx, actor, chunk, duplicates, dry_run=imp.dry_run, earlier=earlier)
        RejectedRow.objects.bulk_create(
            [
                RejectedRow(
                    workspace_id=imp.workspace_id, import_run_id=imp.pk, row_number=number,
                    key=key[:255], reason=reason, cells=[c[:CELL_MAX] for c in cells],
                )
                for number, key, reason, cells in rejections
            ]
        )
        moved = Import.objects.filter(pk=imp.pk, rows_done=done, status=ImportStatus.RUNNING).update(
            rows_done=done + len(chunk),
            created=F("created") + counts["created"],
            updated=F("updated") + counts["updated"],
            unchanged=F("unchanged") + counts["unchanged"],
            rejected=F("rejected") + counts["rejected"],
        )
        if moved != 1:
            raise LostLease(f"import {imp.pk} moved past row {done} under another worker")
    if earlier is not None:
        rejected = {number for number, _, _, _ in rejections}
        earlier.update(ctx.mapper.key(cells) for number, cells in chunk if number not in rejected)
    after_chunk(imp, done + len(chunk))
    return done + len(chunk)


def after_chunk(imp: Import, rows_done: int) -> None:
    """A hook between committed chunks (tests slow workers down here to kill them mid-file)."""


def fail_import(import_id: int, error: str) -> None:
    with transaction.atomic():
        failed = Import.objects.filter(pk=import_id).exclude(status__in=FINISHED).update(
            status=ImportStatus.FAILED, error=error[:4000], finished_at=timezone.now()
        )
        if failed:
            imp = Import.objects.select_related("workspace", "created_by__user").get(pk=import_id)
            tell_admins(imp)
            emit_import_events(imp)


def emit_import_events(imp: Import) -> None:
    """import.finished (succeeded or partial) and import.failed (failed or partial), in the
    transaction that set the final status (docs/webhooks.md); a dry run emits nothing."""
    if imp.dry_run:
        return
    data = {
        "import": {
            "id": imp.pk,
            "object": imp.object,
            "source": imp.source,
            "file_name": imp.file_name,
            "status": imp.status,
            "rows_total": imp.rows_total,
            "created": imp.created,
            "updated": imp.updated,
            "unchanged": imp.unchanged,
            "rejected": imp.rejected,
            "error": imp.error,
        }
    }
    types = []
    if imp.status in (ImportStatus.SUCCEEDED, ImportStatus.PARTIAL):
        types.append("import.finished")
    if imp.status in (ImportStatus.FAILED, ImportStatus.PARTIAL):
        types.append("import.failed")
    emit_many(imp.workspace_id, [(t, data) for t in types])


def tell_admins(imp: Import) -> None:
    """Tell the workspace's admins and whoever started it, by email and in the app (the
    bell), that an import failed or rejected rows (a dry run tells nobody: its reader is
    looking at it). Keyed by the import and its outcome, so a job run again after a kill
    tells them once."""
    if imp.dry_run:
        return
    members = {
        m.pk: m
        for m in Member.objects.filter(
            workspace_id=imp.workspace_id, seat=Seat.ADMIN, is_active=True, user__is_active=True
        ).select_related("user")
    }
    if imp.created_by_id and imp.created_by.is_active:
        members[imp.created_by_id] = imp.created_by
    recipients = {m.user.email for m in members.values()}
    if not recipients:
        return
    where = f"Data → Imports → #{imp.pk} (/data/imports/{imp.pk}/)"
    if imp.status == ImportStatus.FAILED:
        subject = f"Import of {imp.file_name} failed"
        text = (
            f"The import of {imp.file_name} ({imp.get_object_display().lower()}, source {imp.source}) failed "
            f"after {imp.rows_done} of {imp.rows_total or '?'} rows:\n\n{imp.error}\n\n"
            f"Rows done before the failure stay written; retrying its job in Settings → Jobs carries on "
            f"after them. Details: {where}."
        )
    else:
        subject = f"Import of {imp.file_name}: {imp.rejected} row{'s' if imp.rejected != 1 else ''} rejected"
        text = (
            f"The import of {imp.file_name} ({imp.get_object_display().lower()}, source {imp.source}) finished: "
            f"{imp.created} created, {imp.updated} updated, {imp.unchanged} unchanged, {imp.rejected} rejected.\n\n"
            f"The rejected rows, each with its reason, are in the report, and downloadable as CSV: {where}."
        )
    queue_email(
        imp.workspace, to=sorted(recipients), subject=subject[:200], text=text,
        source="Imports", key=f"hub.import.{imp.pk}.{imp.status}",
    )
    for member in members.values():
        notify(
            member, kind="import", title=subject, key=f"hub.import.{imp.pk}.{imp.status}",
            url=f"/data/imports/{imp.pk}/", cause=f"import #{imp.pk}",
        )


def preview(imp: Import, rows: int = PREVIEW_ROWS) -> list[dict]:
    """The first ``rows`` data rows as they would be stored: upserted in a transaction that is
    rolled back, then read back. Each entry: number, status, reason, values (field → shown)."""
    ctx = Context(imp)
    sample = []
    for row in data_rows(imp):
        sample.append(row)
        if len(sample) >= rows:
            break
    actor = system_actor(imp.workspace)
    out = []
    with transaction.atomic():
        savepoint = transaction.savepoint()
        ctx.create_attributes(actor)
        # Duplicates among the sample only: the dry run finds them over the whole file.
        _, duplicates = duplicate_keys(sample, ctx.mapper)
        _, rejections, results = apply_rows(ctx, actor, sample, duplicates, dry_run=False)
        stored = {}
        if ctx.record is None:
            ids = {entry["id"] for entry in results.values() if entry.get("id")}
            related = ("parent", "stage") if imp.object == ImportObject.ACCOUNT else ("account",)
            stored = {o.pk: o for o in MODEL[imp.object].objects.select_related(*related).filter(pk__in=ids)}
        transaction.savepoint_rollback(savepoint)
    reasons = {number: reason for number, _, reason, _ in rejections}
    for number, cells in sample:
        entry = results.get(number)
        obj = stored.get(entry.get("id")) if entry else None
        out.append({
            "number": number,
            "status": entry["status"] if entry and entry["status"] != "error" else "rejected",
            "reason": reasons.get(number, ""),
            "values": _shown(imp, ctx, obj, cells, (entry or {}).get("shown") or {}),
        })
    return out


def _shown(imp: Import, ctx: Context, obj, cells, shown: dict) -> list[str]:
    """The mapped cells of a row as stored: read back from the object (accounts and people)
    or as the record's write said (``shown``), else as in the file."""
    values = []
    for header in imp.headers:
        field = imp.mapping.get(header, "")
        if not field or header in ctx.blocked:
            continue
        if field in shown:
            values.append(shown[field])
            continue
        if obj is None:
            position = imp.headers.index(header)
            values.append(cells[position] if position < len(cells) else "")
            continue
        if field.startswith((ATTRIBUTE_PREFIX, NEW_PREFIX)):
            key = field.split(".", 1)[1]
            value = (obj.attributes or {}).get(key)
        elif field == "account_external_id":
            value = obj.account.external_id if obj.account_id else None
        elif field == "parent_external_id":
            value = obj.parent.external_id if obj.parent_id else None
        elif field == "stage":
            value = obj.stage.name if obj.stage_id else None
        else:
            value = getattr(obj, field, None)
        if isinstance(value, bool):
            value = "yes" if value else "no"
        values.append("" if value is None else str(value))
    return values
