"""The saved view pages: the list, a view (its accounts with its columns, sorted by a click
on a header, paginated, exported), the column chooser, and the forms.

Every view comes through ``get_view`` (404 for one the actor cannot see, 403 with ``edit``
for one they may not change). Clicking a header sorts the page (``?sort=``) without changing
the view; someone who may change it can then save that sort. The column chooser adds,
removes and moves columns, saved at once (htmx swaps the chooser and the table).
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.accounts import condition_builder as cb
from tend.accounts.conditions import account_catalog
from tend.accounts.exports import export_response, field_columns, parse_format
from tend.accounts.views.accounts.common import member_required
from tend.lib.conditions import Catalog, ConditionError, InvalidCondition
from tend.lib.errors import InvalidInput
from tend.segments.actions.views import (
    check_sort,
    column_fields,
    create_view,
    delete_view,
    update_view,
)
from tend.segments.models import Visibility
from tend.segments.queries import visible_segments
from tend.segments.scorecard_models import Source
from tend.segments.scorecard_queries import can_edit, get_view, visible_views
from tend.segments.view_cells import CellReader, headers, view_url
from tend.segments.view_models import SavedView
from tend.segments.view_rows import ViewProblem, numbered_page, plan, sorted_accounts
from tend.segments.views.common import go
from tend.workspaces.access import CONTRIBUTE, WRITE

PAGE_SIZE = 50
PREFIX = "condition"
FORM_FIELDS = ("name", "description", "visibility", "source", "segment")
SOURCE_HELP = {
    Source.ALL: "Every account in the workspace.",
    Source.SEGMENT: "The members of a segment, kept up to date.",
    Source.CONDITION: "The accounts a condition matches as the view opens.",
}


def _view(request, view_id: int, *, edit: bool = False) -> SavedView:
    actor = request.actor
    queryset = visible_views(actor).select_related("owner__user", "segment")
    return get_view(actor, view_id, edit=edit, queryset=queryset)


def _accounts_in_words(view: SavedView, catalog: Catalog, actor) -> str:
    if view.source == Source.SEGMENT:
        return f"Members of the segment “{view.segment.name}”" if view.segment else ""
    if view.source == Source.CONDITION:
        return "Accounts where " + cb.describe(view.condition, catalog, cb.Options(actor))
    return "Every account"


# --- The list -------------------------------------------------------------------------------


@member_required
@require_GET
def view_list(request):
    actor = request.actor
    views = list(visible_views(actor).select_related("owner__user", "segment").order_by("name"))
    catalog = account_catalog(actor.workspace) if views else None
    member = actor.member
    rows = [
        {
            "view": v,
            "accounts": _accounts_in_words(v, catalog, actor),
            "mine": member is not None and v.owner_id == member.pk,
        }
        for v in views
    ]
    return render(
        request,
        "segments/views/list.html",
        {"rows": rows, "can_create": actor.can(CONTRIBUTE)},
    )


# --- A view ---------------------------------------------------------------------------------


def _invalid(exc: InvalidInput) -> JsonResponse:
    """A bad export address answers as the API does: it was made by hand, not by the page."""
    return JsonResponse({"detail": str(exc), "errors": [exc.as_dict()]}, status=422)


def _sort_of(request, view: SavedView, catalog: Catalog) -> list[str]:
    """The page's sort: the one asked for in the address (``-usage.last_seen``, several
    comma-separated) if it is one, else the view's."""
    asked = request.GET.get("sort", "")
    if asked:
        try:
            return check_sort(asked.split(","), catalog)
        except InvalidInput:
            pass
    return list(view.sort)


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def _body(request, view: SavedView, catalog: Catalog) -> dict:
    """The chooser and the table: what the page shows below its header, and what the
    chooser and the headers swap."""
    actor = request.actor
    sort = _sort_of(request, view, catalog)
    context = {
        "view": view,
        "can_edit": can_edit(actor, view),
        "sort": sort,
        "sort_is_saved": sort == list(view.sort),
        "problem": "",
    }
    try:
        used = plan(view, catalog, sort)
    except ViewProblem as exc:
        return {**context, "problem": str(exc), "rows": [], "total": 0}
    number = _page_number(request)
    items, total = numbered_page(view, used, catalog, number=number, size=PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    if number > pages:
        number = pages
        items, total = numbered_page(view, used, catalog, number=number, size=PAGE_SIZE)
    reader = CellReader(view.workspace, used.columns, catalog)
    shown = set(used.columns)
    addable = [
        (group, [(s.name, s.label) for s in specs if s.name not in shown])
        for group, specs in _groups(catalog)
    ]
    first = (number - 1) * PAGE_SIZE
    return {
        **context,
        "used": used,
        "headers": headers(view, used.columns, catalog, sort),
        "rows": [{"item": item, "cells": reader.row(item)} for item in items],
        "total": total,
        "page": {"number": number, "pages": pages, "start": first + 1, "end": first + len(items)},
        "previous_url": view_url(view, sort=_sort_param(sort, view), page=number - 1)
        if number > 1
        else None,
        "next_url": view_url(view, sort=_sort_param(sort, view), page=number + 1)
        if number < pages
        else None,
        "chosen": [(name, catalog[name].label) for name in used.columns],
        "addable": [(group, fields) for group, fields in addable if fields],
        "stale": used.stale,
        "sort_suffix": f"&{urlencode({'sort': _sort_param(sort, view)})}"
        if _sort_param(sort, view)
        else "",
    }


def _groups(catalog: Catalog):
    allowed = {spec.name for spec in column_fields(catalog)}
    return [(group, [s for s in specs if s.name in allowed]) for group, specs in catalog.groups()]


def _sort_param(sort: list[str], view: SavedView) -> str:
    return "" if sort == list(view.sort) else ",".join(sort)


@member_required
@require_GET
def view_detail(request, view_id: int):
    actor = request.actor
    view = _view(request, view_id)
    catalog = account_catalog(actor.workspace)
    body = _body(request, view, catalog)
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        return render(request, "segments/views/detail.html#body", body)
    return render(
        request,
        "segments/views/detail.html",
        {**body, "accounts": _accounts_in_words(view, catalog, actor)},
    )


def _moved(columns: list[str], name: str, step: int) -> list[str]:
    if name not in columns:
        return columns
    i = columns.index(name)
    j = min(max(i + step, 0), len(columns) - 1)
    columns = list(columns)
    columns[i], columns[j] = columns[j], columns[i]
    return columns


@member_required
@require_POST
def view_columns(request, view_id: int):
    """Add, remove or move a column: ``op`` is ``add`` (with ``add``: a field name),
    ``remove:<name>``, ``earlier:<name>`` or ``later:<name>``."""
    actor = request.actor
    view = _view(request, view_id, edit=True)
    op, _, name = (request.POST.get("op") or "").partition(":")
    columns = list(view.columns)
    if op == "add":
        columns.append(request.POST.get("add", ""))
    elif op == "remove":
        columns = [c for c in columns if c != name]
    elif op in ("earlier", "later"):
        columns = _moved(columns, name, -1 if op == "earlier" else 1)
    error = ""
    try:
        view = update_view(actor, view, {"columns": columns})
    except InvalidInput as exc:
        error = "Choose a field to add." if not request.POST.get("add") else exc.message
    catalog = account_catalog(actor.workspace)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return go(request, view_url(view))
    body = _body(request, _view(request, view_id), catalog)
    context = {**body, "chooser_error": error, "chooser_open": True}
    return render(request, "segments/views/detail.html#body", context)


@member_required
@require_POST
def view_sort(request, view_id: int):
    """Save the page's sort as the view's."""
    actor = request.actor
    view = _view(request, view_id, edit=True)
    sort = [key for key in (request.POST.get("sort") or "").split(",") if key]
    try:
        update_view(actor, view, {"sort": sort or ["name"]})
    except InvalidInput as exc:
        messages.error(request, f"The sort was not saved: {exc.message}")
    else:
        messages.success(request, "Saved the sort: the view opens sorted this way for everyone.")
    return go(request, view_url(view))


@member_required
@require_GET
def view_export(request, view_id: int):
    """The view's accounts in its sort (or the page's), with its columns, as CSV or XLSX."""
    actor = request.actor
    view = _view(request, view_id)
    catalog = account_catalog(actor.workspace)
    try:
        format = parse_format(request.GET.get("format"))
        used = plan(view, catalog, _sort_of(request, view, catalog))
    except InvalidInput as exc:
        return _invalid(exc)
    except ViewProblem as exc:
        return _invalid(InvalidInput(exc.field, str(exc)))
    accounts = sorted_accounts(view, used, catalog)
    columns = field_columns(catalog, used.columns)
    return export_response(
        actor.workspace, accounts, columns, format, title=view.name, catalog=catalog
    )


# --- Forms ----------------------------------------------------------------------------------


def _form_context(request, view, values, builder, catalog, errors) -> dict:
    actor = request.actor
    segments = visible_segments(actor).order_by("name").values_list("id", "name", "visibility")
    condition_errors = {k.removeprefix("cb:"): v for k, v in errors.items() if k.startswith("cb:")}
    return {
        "view": view,
        "values": values,
        "errors": {k: v for k, v in errors.items() if k and not k.startswith("cb:")},
        "general_errors": errors.get("", []),
        "cb": cb.view(builder, catalog, condition_errors, actor=actor),
        "sources": [(value, label, SOURCE_HELP[value]) for value, label in Source.choices],
        "segments": [
            {"id": str(pk), "name": name, "private": vis == Visibility.PRIVATE}
            for pk, name, vis in segments
        ],
        "can_share": actor.can(WRITE),
    }


def _initial(request, view: SavedView | None, catalog) -> tuple[dict, object]:
    if view is not None:
        values = {
            "name": view.name,
            "description": view.description,
            "visibility": view.visibility,
            "source": view.source,
            "segment": str(view.segment_id or ""),
        }
        builder = cb.from_condition(view.condition, PREFIX) if view.condition else cb.blank(PREFIX)
        return values, builder
    segment = request.GET.get("segment", "")
    where = request.GET.get("where", "")
    checked = cb.check_text(where, PREFIX, catalog) if where else None
    values = {
        "name": "",
        "description": "",
        "visibility": Visibility.PRIVATE,
        "source": Source.SEGMENT if segment else Source.CONDITION if where else Source.ALL,
        "segment": segment,
    }
    builder = checked.builder if checked is not None and checked.builder else cb.blank(PREFIX)
    return values, builder


def _data(values: dict, builder, catalog) -> tuple[dict, cb.Draft]:
    data = {k: values[k] for k in ("name", "description", "visibility")}
    data["segment_id"], data["condition"] = None, None
    draft = cb.Draft(None)
    if values["source"] == Source.SEGMENT:
        if not values["segment"]:
            raise InvalidInput("segment_id", "choose a segment")
        try:
            data["segment_id"] = int(values["segment"])
        except ValueError as exc:
            raise InvalidInput("segment_id", "choose a segment") from exc
    elif values["source"] == Source.CONDITION:
        draft = cb.to_condition(builder, catalog)
        if draft.error:
            raise InvalidInput("condition", f"The condition {draft.error}")
        if draft.condition is None:
            raise InvalidInput("condition", "add a condition, or list every account")
        data["condition"] = draft.condition
    return data, draft


def _errors_of(exc: InvalidInput, builder, draft) -> dict[str, list[str]]:
    if exc.field == PREFIX or exc.field.startswith(PREFIX + "."):
        if draft.condition is None:
            return {"cb:": [exc.message]}
        if isinstance(exc, InvalidCondition):
            found = [ConditionError(e.field(exc.prefix), e.message) for e in exc.errors]
        else:
            found = [ConditionError(exc.field, exc.message)]
        rows = cb.node_errors(builder, draft, found, strip=PREFIX)
        return {f"cb:{k}": v for k, v in rows.items()}
    field = "segment" if exc.field == "segment_id" else exc.field
    if field in FORM_FIELDS:
        return {field: [exc.message]}
    return {"": [f"{exc.field}: {exc.message}"]}


def _form(request, view: SavedView | None):
    actor = request.actor
    catalog = account_catalog(actor.workspace)
    if request.method == "GET":
        values, builder = _initial(request, view, catalog)
        context = _form_context(request, view, values, builder, catalog, {})
        return render(request, "segments/views/form.html", context)
    values = {name: (request.POST.get(name) or "").strip() for name in FORM_FIELDS}
    builder = cb.read(request.POST, PREFIX, catalog)
    op = request.POST.get(f"{PREFIX}-op", "")
    if op:
        cb.apply(builder, op, catalog)
        context = _form_context(request, view, values, builder, catalog, {})
        return render(request, "segments/views/form.html", context)
    draft = cb.Draft(None)
    try:
        data, draft = _data(values, builder, catalog)
        saved = create_view(actor, data) if view is None else update_view(actor, view, data)
    except InvalidInput as exc:
        errors = _errors_of(exc, builder, draft)
        context = _form_context(request, view, values, builder, catalog, errors)
        return render(request, "segments/views/form.html", context, status=422)
    messages.success(
        request,
        f"Saved the view “{saved.name}”." + (" Choose its columns below." if view is None else ""),
    )
    return go(request, view_url(saved))


@member_required
@require_http_methods(["GET", "POST"])
def view_new(request):
    request.actor.require(CONTRIBUTE)
    return _form(request, None)


@member_required
@require_http_methods(["GET", "POST"])
def view_edit(request, view_id: int):
    return _form(request, _view(request, view_id, edit=True))


@member_required
@require_http_methods(["GET", "POST"])
def view_delete(request, view_id: int):
    view = _view(request, view_id, edit=True)
    if request.method == "POST":
        name = view.name
        delete_view(request.actor, view)
        messages.success(request, f"Deleted the view “{name}”.")
        return go(request, reverse("views:list"))
    return render(request, "segments/views/delete.html", {"view": view})
