"""Data → Imports: upload, map, preview, dry run, run, report. Views parse, call an action
and render; every import is fetched through ``queries.get_import`` (404 outside the
workspace, 403 for a seat that cannot write)."""


from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tend.hub import actions
from tend.hub.mapping import ATTRIBUTE_PREFIX, NEW_PREFIX, Fields, key_for
from tend.hub.models import (
    ATTRIBUTE_OBJECTS,
    FieldOwner,
    ImportObject,
    ImportStatus,
    RejectedRow,
    SavedMapping,
)
from tend.hub.objects import record
from tend.hub.queries import errors_response, get_import, imports_of
from tend.hub.reading import iter_rows
from tend.hub.running import file_info, preview, stored_path
from tend.jobs.models import Job, JobStatus
from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, READ, WRITE

PAGE_SIZE = 25
REJECTED_PAGE = 50
SAMPLES = 3


def _actor(request):
    actor = getattr(request, "actor", None)
    if actor is None:
        raise Http404("No workspace.")
    return actor


def importable_objects() -> list[tuple[str, str]]:
    """What the new-import page offers: accounts, people, and every registered record."""
    return [(v, label) for v, label in ImportObject.choices if v in ATTRIBUTE_OBJECTS or record(v)]


@login_required
def import_list(request):
    actor = _actor(request)
    page = Paginator(imports_of(actor), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "hub/list.html", {"page": page, "can_write": actor.can(WRITE)})


@login_required
def import_new(request):
    actor = _actor(request)
    actor.require(WRITE)
    errors, values = {}, {"object": ImportObject.ACCOUNT, "source": ""}
    if request.method == "POST":
        values = {"object": request.POST.get("object", ""), "source": request.POST.get("source", "")}
        try:
            imp = actions.upload_file(
                actor, request.FILES.get("file"), object=values["object"], source=values["source"]
            )
        except InvalidInput as exc:
            errors[exc.field] = exc.message
        else:
            return redirect("hub:detail", import_id=imp.pk)
    status = 400 if errors else 200
    return render(
        request, "hub/new.html",
        {"errors": errors, "values": values, "objects": importable_objects(),
         "max_mb": settings.TEND_IMPORT_MAX_BYTES // (1024 * 1024)},
        status=status,
    )


@login_required
def import_detail(request, import_id: int):
    actor = _actor(request)
    imp = get_import(actor, import_id, READ)
    if imp.status == ImportStatus.DRAFT:
        return _mapping_page(request, actor, imp)
    rejected = Paginator(
        RejectedRow.objects.filter(workspace=actor.workspace, import_run=imp).order_by("row_number"), REJECTED_PAGE
    ).get_page(request.GET.get("page"))
    return render(
        request, "hub/report.html",
        {"imp": imp, "rejected": rejected, "can_write": actor.can(WRITE), "job_failed": _job_error(imp)},
    )


def _job_error(imp) -> str:
    """The job's reason when its worker died on every attempt (the import cannot say itself)."""
    if imp.is_finished or not imp.job_id:
        return ""
    job = Job.objects.filter(pk=imp.job_id, workspace_id=imp.workspace_id, status=JobStatus.FAILED).first()
    return job.error_summary if job else ""


@login_required
def import_progress(request, import_id: int):
    actor = _actor(request)
    imp = get_import(actor, import_id, READ)
    response = render(request, "hub/report.html#progress", {"imp": imp, "job_failed": _job_error(imp)})
    if imp.is_finished and request.htmx:
        response["HX-Refresh"] = "true"
    return response


def _mapping_page(request, actor, imp, errors=None, status=200):
    fields = Fields(actor.workspace, imp.object)
    samples = {h: [] for h in imp.headers}
    rows = iter_rows(stored_path(imp), file_info(imp), imp.sheet)
    next(rows, None)
    for _, (_, cells) in zip(range(SAMPLES), rows, strict=False):
        for position, header in enumerate(imp.headers):
            if position < len(cells) and cells[position].strip():
                samples[header].append(cells[position])
    blocked = fields.blocked(imp.mapping, imp.source)
    columns = []
    targets = fields.targets()
    for header in imp.headers:
        current = imp.mapping.get(header, "")
        new_field = NEW_PREFIX + key_for(header)
        if fields.record is not None or ATTRIBUTE_PREFIX + key_for(header) in {t.field for t in targets}:
            new_field = ""  # records have no attributes; an attribute with this key exists
        columns.append({
            "header": header, "field": current, "samples": samples[header], "new_field": new_field,
            "owner": blocked.get(header, ""),
        })
    missing = fields.missing(imp.mapping)
    if not missing:
        preview_error = ""
    elif fields.record is None:
        preview_error = "Choose the key: map one column to “External id (key)”."
    else:
        preview_error = f"Map a column to {', '.join(f'“{fields.label(f)}”' for f in missing)}: {'it is' if len(missing) == 1 else 'they are'} required."
    try:
        shown = [] if missing else preview(imp)
    except InvalidInput as exc:
        shown, preview_error = [], exc.message
    shown_headers = [h for h in imp.headers if imp.mapping.get(h) and h not in blocked]
    context = {
        "imp": imp, "record": fields.record,
        "key_fields": fields.record.key if fields.record else (),
        "key_labels": [fields.label(f).split(" (")[0].lower() for f in fields.record.key] if fields.record else [],
        "columns": columns, "targets": targets, "errors": errors or {},
        "preview": shown, "preview_error": preview_error, "shown_headers": shown_headers,
        "saved": SavedMapping.objects.filter(workspace=actor.workspace, object=imp.object),
        "can_write": actor.can(WRITE), "can_create": actor.can(ADMIN),
    }
    return render(request, "hub/mapping.html", context, status=status)


@login_required
@require_POST
def import_mapping(request, import_id: int):
    """Save the mapping (and maybe keep it by name), then show the preview again or start."""
    actor = _actor(request)
    imp = get_import(actor, import_id, WRITE)
    intent = request.POST.get("intent", "preview")
    try:
        if intent == "sheet":
            actions.choose_sheet(actor, imp, request.POST.get("sheet", ""))
            return redirect("hub:detail", import_id=imp.pk)
        if intent == "apply_saved":
            saved = actions.saved_mapping(actor, imp.object, request.POST.get("mapping_name", ""))
            actions.set_mapping(actor, imp, actions.mapping_from_saved(saved, imp.headers),
                                unknown=saved.unknown_columns)
            messages.success(request, f"Applied the saved mapping “{saved.name}”.")
            return redirect("hub:detail", import_id=imp.pk)
        mapping = {h: request.POST.get(f"field-{i}", "") for i, h in enumerate(imp.headers)}
        actions.set_mapping(
            actor, imp, mapping, source=request.POST.get("source"), save_as=request.POST.get("save_as", "").strip()
        )
        if intent in ("dry_run", "run"):
            imp = actions.start_import(actor, imp, dry_run=intent == "dry_run")
    except InvalidInput as exc:
        if imp.status == ImportStatus.DRAFT and intent not in ("sheet", "apply_saved"):
            # Show what was chosen with the reason, without storing it.
            imp.mapping = {h: request.POST.get(f"field-{i}", "") for i, h in enumerate(imp.headers)}
        return _mapping_page(request, actor, imp, errors={exc.field: exc.message}, status=400)
    return redirect("hub:detail", import_id=imp.pk)


@login_required
@require_POST
def import_start(request, import_id: int):
    """Run for real the file and mapping of a finished dry run."""
    actor = _actor(request)
    imp = get_import(actor, import_id, WRITE)
    try:
        run = actions.start_import(actor, imp, dry_run=False)
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect("hub:detail", import_id=imp.pk)
    return redirect("hub:detail", import_id=run.pk)


@login_required
def import_errors(request, import_id: int):
    return errors_response(get_import(_actor(request), import_id, READ))


@login_required
def owners(request):
    """Sources of truth: which source owns which attribute."""
    actor = _actor(request)
    if request.method == "POST":
        actor.require(ADMIN)
        try:
            actions.set_field_owner(
                actor, request.POST.get("object", ""), request.POST.get("key", ""), request.POST.get("source", "")
            )
        except InvalidInput as exc:
            messages.error(request, f"{exc.field}: {exc.message}")
            return redirect("hub:owners")
        messages.success(request, "Saved.")
        return redirect("hub:owners")
    rows = []
    for object, label in ImportObject.choices:
        if object not in ATTRIBUTE_OBJECTS:
            continue
        fields = Fields(actor.workspace, object)
        for key, definition in fields.definitions.items():
            rows.append({"object": object, "object_label": label, "key": key, "label": definition.label,
                         "source": fields.owners.get(key, "")})
    return render(request, "hub/owners.html", {"rows": rows, "can_admin": actor.can(ADMIN),
                                               "count": FieldOwner.objects.filter(workspace=actor.workspace).count()})


