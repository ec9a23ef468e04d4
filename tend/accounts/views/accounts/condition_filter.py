"""The accounts list's "Filter by condition" panel: a condition builder whose condition the
list keeps in its query string as ``where=<JSON>``, so a filtered list is a link to share
(the list itself reads it: ``listing.py``).

* the panel (:func:`condition_panel`, GET) is drawn when someone opens it, so a list without
  a condition costs nothing more;
* **Apply** (:func:`condition_apply`, POST) turns the builder into JSON and sends the browser
  to the list with it and with the filters the filter bar holds, or shows the errors under
  their rows.
"""

from dataclasses import replace

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from tend.accounts import condition_builder as cb
from tend.accounts.conditions import account_catalog
from tend.accounts.forms import AccountFilterForm, members_of
from tend.accounts.models import AssignmentRole, Stage, Tag
from tend.accounts.queries import AccountFilters
from tend.accounts.views.accounts.common import member_required
from tend.accounts.views.accounts.listing import WHERE, list_url
from tend.lib.conditions import validate


def _filters_from(request, data) -> AccountFilters:
    workspace = request.actor.workspace
    form = AccountFilterForm(
        data,
        workspace=workspace,
        stages=list(Stage.objects.filter(workspace=workspace)),
        roles=list(AssignmentRole.objects.filter(workspace=workspace)),
        members=list(members_of(workspace)),
        tags=list(Tag.objects.filter(workspace=workspace)),
    )
    return form.filters()


@member_required
@require_GET
def condition_panel(request):
    """The panel's form, for the condition in the address (or a new one)."""
    catalog = account_catalog(request.actor.workspace)
    checked = cb.check_text(request.GET.get(WHERE, ""), WHERE, catalog)
    builder = checked.builder or cb.blank(WHERE)
    return render(
        request,
        _template(request),
        {"cb": cb.view(builder, catalog, checked.errors, actor=request.actor)},
    )


def _template(request) -> str:
    """The panel alone for htmx; without JavaScript, a page of its own."""
    return "accounts/condition_panel.html" if request.htmx else "accounts/condition_page.html"


@member_required
@require_POST
def condition_apply(request):
    """Apply the builder to the list, keeping the filter bar's filters."""
    catalog = account_catalog(request.actor.workspace)
    builder = cb.read(request.POST, WHERE, catalog)
    filters = replace(_filters_from(request, request.POST), where="")
    op = request.POST.get(f"{WHERE}-op", "")
    errors: dict[str, list[str]] = {}
    if op:
        # A builder button pressed without JavaScript: the panel again, edited.
        cb.apply(builder, op, catalog)
    else:
        draft = cb.to_condition(builder, catalog)
        if draft.error:
            errors = {"": [f"The condition {draft.error}"]}
        elif draft.condition is None:
            return _go(request, list_url(filters))
        else:
            problems = validate(draft.condition, catalog)
            if not problems:
                return _go(request, list_url(filters, where=cb.compact(draft.condition)))
            errors = cb.node_errors(builder, draft, problems)
    response = render(
        request, _template(request), {"cb": cb.view(builder, catalog, errors, actor=request.actor)}
    )
    if errors:
        response.status_code = 422
    return response


def _go(request, url: str):
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
