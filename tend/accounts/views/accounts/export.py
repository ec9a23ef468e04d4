"""The accounts list's Export: the list as it stands — search, filters, condition, sort —
with the columns it shows, streamed as CSV or XLSX (see ``tend.accounts.exports``).

The list's own query string is the export's, plus ``format=csv|xlsx``; the list's page is
ignored (an export holds every matching account). A bad ``format`` or condition answers
with the JSON error shape the API uses, naming the parameter: a link that leads there was
made by hand, not by the page.
"""

import json
from urllib.parse import urlencode

from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from tend.accounts.conditions import account_catalog
from tend.accounts.exports import export_response, list_columns, parse_format
from tend.accounts.forms import AccountFilterForm, members_of
from tend.accounts.models import AssignmentRole, Stage, Tag
from tend.accounts.queries import (
    AccountFilters,
    accounts_for_list,
    list_attribute_columns,
    primary_role_of,
)
from tend.accounts.views.accounts.common import member_required
from tend.lib.conditions import require_valid
from tend.lib.errors import InvalidInput

WHERE = "where"


def export_url(filters: AccountFilters, format: str) -> str:
    """The address that exports the list ``filters`` describe, in ``format``."""
    params = {k: v for k, v in filters.params().items() if v not in ("", None)}
    params["format"] = format
    return f"{reverse('accounts:export')}?{urlencode(params)}"


def _invalid(exc: InvalidInput) -> JsonResponse:
    errors = exc.as_dicts() if hasattr(exc, "as_dicts") else [exc.as_dict()]
    return JsonResponse({"detail": str(exc), "errors": errors}, status=422)


@member_required
@require_GET
def account_export(request):
    workspace = request.actor.workspace
    roles = list(AssignmentRole.objects.filter(workspace=workspace))
    form = AccountFilterForm(
        request.GET,
        workspace=workspace,
        stages=list(Stage.objects.filter(workspace=workspace)),
        roles=roles,
        members=list(members_of(workspace)),
        tags=list(Tag.objects.filter(workspace=workspace)),
    )
    filters = form.filters()
    catalog = None
    try:
        format = parse_format(request.GET.get("format"))
        if filters.where:
            catalog = account_catalog(workspace)
            try:
                condition = json.loads(filters.where)
            except ValueError as exc:
                raise InvalidInput(WHERE, f"is not valid JSON: {exc}") from exc
            require_valid(condition, catalog, prefix=WHERE)
    except InvalidInput as exc:
        return _invalid(exc)
    owner_role = primary_role_of(roles)
    columns = list_columns(owner_role, list_attribute_columns(workspace))
    accounts = accounts_for_list(workspace, filters, owner_role, catalog)
    return export_response(workspace, accounts, columns, format, title="Accounts")
