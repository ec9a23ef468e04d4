"""Creating and editing a segment: name, description, who sees it, and — for a dynamic
segment — its condition in the condition builder with the live member count.

The form posts its fields and the builder's rows (``tend.accounts.condition_builder``, named
``condition``); the actions check everything and their errors come back beside their field,
a condition's under the row it concerns. A builder button pressed without JavaScript posts
here too and gets the form back, edited (``condition-op``).

The live count is this app's (``condition_count``): besides the language, it checks what
saving would — that the condition names only segments the actor sees, and does not make the
segment depend on itself.
"""

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from tend.accounts import condition_builder as cb
from tend.accounts.conditions import account_catalog
from tend.accounts.models import Account
from tend.accounts.views.accounts.common import member_required
from tend.accounts.views.condition_builder import count_context, draft_errors
from tend.lib.conditions import ConditionError, InvalidCondition
from tend.lib.errors import InvalidInput
from tend.segments.actions import create_segment, update_segment
from tend.segments.models import Segment, SegmentKind, Visibility
from tend.segments.queries import count_matching
from tend.segments.views.common import go, segment_for
from tend.workspaces.access import CONTRIBUTE, WRITE

PREFIX = "condition"
FIELDS = ("name", "description", "kind", "visibility")


def _condition_errors(exc: InvalidInput) -> list[ConditionError]:
    if isinstance(exc, InvalidCondition):
        return [ConditionError(e.field(exc.prefix), e.message) for e in exc.errors]
    return [ConditionError(exc.field, exc.message)]


def _count_url(segment: Segment | None) -> str:
    if segment is None:
        return reverse("segments:condition_count")
    return reverse("segments:condition_count", kwargs={"segment_id": segment.pk})


def _context(request, segment, values: dict, builder, catalog, errors: dict) -> dict:
    actor = request.actor
    condition_errors = {k.removeprefix("cb:"): v for k, v in errors.items() if k.startswith("cb:")}
    return {
        "segment": segment,
        "values": values,
        "errors": {k: v for k, v in errors.items() if k and not k.startswith("cb:")},
        "general_errors": errors.get("", []),
        "cb": cb.view(
            builder, catalog, condition_errors, actor=actor, count_url=_count_url(segment)
        ),
        "can_share": actor.can(WRITE),
        "kinds": SegmentKind.choices,
        "visibilities": Visibility.choices,
        "accounts": Account.objects.filter(workspace=actor.workspace).count(),
    }


def _values(data, segment: Segment | None) -> dict:
    values = {name: (data.get(name) or "").strip() for name in FIELDS}
    if segment is not None:
        values["kind"] = segment.kind  # fixed once created
    if values["kind"] not in SegmentKind.values:
        values["kind"] = SegmentKind.DYNAMIC
    return values


def _save(request, segment: Segment | None, values: dict, builder, catalog):
    """Create or change the segment; ``(segment, errors)`` — errors by form field, a
    condition's by ``cb:<row>``."""
    data = {k: values[k] for k in ("name", "description", "visibility")}
    draft = cb.Draft(None)
    if segment is None:
        data["kind"] = values["kind"]
    if values["kind"] == SegmentKind.DYNAMIC:
        draft = cb.to_condition(builder, catalog)
        if draft.error:
            return None, {"cb:": [f"The condition {draft.error}"]}
        data["condition"] = draft.condition
    try:
        if segment is None:
            segment = create_segment(request.actor, data)
        else:
            segment = update_segment(request.actor, segment, data)
    except InvalidInput as exc:
        if exc.field == PREFIX or exc.field.startswith(PREFIX + "."):
            found = cb.node_errors(builder, draft, _condition_errors(exc), strip=PREFIX)
            return None, {f"cb:{k}": v for k, v in found.items()}
        field = exc.field if exc.field in FIELDS else ""
        return None, {field: [exc.message] if field else [f"{exc.field}: {exc.message}"]}
    return segment, {}


def _form(request, segment: Segment | None):
    actor = request.actor
    catalog = account_catalog(actor.workspace)
    if request.method == "GET":
        if segment is not None:
            values = {
                "name": segment.name,
                "description": segment.description,
                "kind": segment.kind,
                "visibility": segment.visibility,
            }
            builder = cb.from_condition(segment.condition, PREFIX)
        else:
            kind = request.GET.get("kind")
            values = {
                "name": "",
                "description": "",
                "kind": kind if kind in SegmentKind.values else SegmentKind.DYNAMIC,
                "visibility": Visibility.PRIVATE,
            }
            # "Save as segment" from the accounts list brings its condition along.
            checked = cb.check_text(request.GET.get("where", ""), PREFIX, catalog)
            builder = checked.builder or cb.blank(PREFIX)
            if checked.builder is not None and not checked.is_valid:
                return render(
                    request,
                    "segments/form.html",
                    _context(request, None, values, builder, catalog,
                             {f"cb:{k}": v for k, v in checked.errors.items()}),
                )  # fmt: skip
        return render(
            request, "segments/form.html", _context(request, segment, values, builder, catalog, {})
        )
    values = _values(request.POST, segment)
    builder = cb.read(request.POST, PREFIX, catalog)
    op = request.POST.get(f"{PREFIX}-op", "")
    if op:
        cb.apply(builder, op, catalog)
        return render(
            request, "segments/form.html", _context(request, segment, values, builder, catalog, {})
        )
    saved, errors = _save(request, segment, values, builder, catalog)
    if errors:
        context = _context(request, segment, values, builder, catalog, errors)
        return render(request, "segments/form.html", context, status=422)
    messages.success(
        request,
        f"Saved “{saved.name}”: {saved.member_count:,} account"
        f"{'' if saved.member_count == 1 else 's'} in it now."
        if saved.is_dynamic
        else f"Saved “{saved.name}”.",
    )
    return go(request, reverse("segments:detail", kwargs={"segment_id": saved.pk}))


@member_required
@require_http_methods(["GET", "POST"])
def segment_new(request):
    request.actor.require(CONTRIBUTE)
    return _form(request, None)


@member_required
@require_http_methods(["GET", "POST"])
def segment_edit(request, segment_id: int):
    return _form(request, segment_for(request, segment_id, edit=True))


@member_required
@require_POST
def condition_count(request, segment_id: int | None = None):
    """The builder's live count on this form: the accounts the condition matches now, or
    every error saving it would meet, under its row. Nothing is saved."""
    actor = request.actor
    segment = segment_for(request, segment_id) if segment_id is not None else None
    if request.POST.get("cb-prefix") != PREFIX:
        return HttpResponseBadRequest("cb-prefix: expected the segment form's builder")
    workspace = actor.workspace
    catalog = account_catalog(workspace)
    builder = cb.read(request.POST, PREFIX, catalog)
    draft = cb.to_condition(builder, catalog, partial=True)
    errors = draft_errors(builder, draft, catalog)
    total = Account.objects.filter(workspace=workspace).count()
    count = None
    if not errors:
        count = total
        if draft.condition is not None:
            try:
                count = count_matching(actor, draft.condition, segment=segment)
            except InvalidInput as exc:
                count = None
                errors = cb.node_errors(builder, draft, _condition_errors(exc), strip=PREFIX)
    context = count_context(builder, draft, errors, count, total)
    return render(request, "accounts/condition_count.html", context)
