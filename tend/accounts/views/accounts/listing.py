"""The accounts list: search, filters, a condition, sorting and pages, swapped in place by
htmx. The condition (``where=<JSON>``) is built in the panel of ``condition_filter.py``."""

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from tend.accounts import attributes
from tend.accounts import condition_builder as cb
from tend.accounts.conditions import account_catalog
from tend.accounts.extensions import condition_links, list_columns
from tend.accounts.filter_conditions import filters_condition
from tend.accounts.forms import AccountFilterForm, members_of
from tend.accounts.models import Account, AssignmentRole, AttributeType, Stage, Tag
from tend.accounts.queries import (
    DEFAULT_SORT,
    PAGE_SIZE,
    AccountFilters,
    accounts_for_list,
    all_sorts,
    list_attribute_columns,
    primary_role_of,
)
from tend.accounts.views.accounts.common import member_required
from tend.workspaces.access import WRITE

NUMERIC = (AttributeType.NUMBER, AttributeType.CURRENCY)
WHERE = "where"  # the condition's query-string parameter, and its builder's name
# Columns whose first click sorts newest first: that is what people look for.
DESCENDING_FIRST = {"updated", "created"}


@dataclass
class Row:
    account: Account
    owner: object
    cells: list[tuple[str, bool]]
    tags: list
    more_tags: int
    # Cells of the columns other apps add: (text, tooltip, numeric).
    extra: list[tuple[str, str, bool]]


def list_url(filters: AccountFilters, **changes) -> str:
    """The canonical address of a list view: only the parameters that differ from defaults.
    ``changes`` may name the filters other apps add too (``health="poor"``)."""
    values = {**filters.params(), **changes}
    params = {
        k: v
        for k, v in values.items()
        if v not in ("", None) and not (k == "sort" and v == DEFAULT_SORT)
    }
    if str(params.get("page", "")) == "1":
        params.pop("page")
    query = urlencode(params)
    return reverse("accounts:list") + (f"?{query}" if query else "")


def sort_headers(filters: AccountFilters, url=list_url) -> dict:
    """For each sortable column: the address that sorts by it and the arrow to show now.
    ``url(filters, **changes)`` builds addresses (another page listing accounts: its own)."""
    current = filters.sort
    descending_first = DESCENDING_FIRST | {c.key for c in list_columns() if c.descending_first}
    headers = {}
    for key in all_sorts():
        if current == key:
            target, arrow = f"-{key}", "▲"
        elif current == f"-{key}":
            target, arrow = key, "▼"
        else:
            target, arrow = (f"-{key}" if key in descending_first else key), ""
        headers[key] = {"url": url(filters, sort=target), "arrow": arrow}
    return headers


def make_rows(accounts, columns, extra_columns) -> list[Row]:
    rows = []
    for account in accounts:
        held = getattr(account, "owner_assignments", [])
        values = account.attributes or {}
        tags = list(account.tags.all())
        rows.append(
            Row(
                account=account,
                owner=held[0].member if held else None,
                cells=[
                    (attributes.display(d, values.get(d.key)), d.type in NUMERIC) for d in columns
                ],
                tags=tags[:2],
                more_tags=max(0, len(tags) - 2),
                extra=[(*column.cell(account), column.numeric) for column in extra_columns],
            )
        )
    return rows


def page_links(page, filters: AccountFilters, url=list_url) -> dict:
    links = {}
    if page.has_previous():
        links["previous"] = url(filters, page=page.previous_page_number())
    if page.has_next():
        links["next"] = url(filters, page=page.next_page_number())
    return links


def where_context(actor, where: cb.Checked, catalog, filters: AccountFilters) -> dict:
    """What the list shows of its condition: the words, the links beside it (segments'
    "Save as segment", which keep the filter bar's filters too), the address without it, and
    the builder open on its problems."""
    kept = None
    if filters.is_filtered and (not filters.where or where.is_valid):
        kept = filters_condition(
            actor.workspace, filters, where.condition if filters.where else None
        )
    context = {
        "where": where,
        "where_words": cb.describe(where.condition, catalog, cb.Options(actor))
        if where.is_valid
        else "",
        "where_remove_url": list_url(replace(filters, where="")),
        "where_links": [
            {"label": link.label, "url": link.url(cb.compact(kept))}
            for link in condition_links()
            if kept is not None and actor.can(link.right)
        ],
    }
    if where.builder is not None and where.errors:
        context["cb"] = cb.view(where.builder, catalog, where.errors, actor=actor)
    return context


@member_required
@require_GET
def account_list(request):
    actor = request.actor
    workspace = actor.workspace
    stages = list(Stage.objects.filter(workspace=workspace))
    roles = list(AssignmentRole.objects.filter(workspace=workspace))
    members = list(members_of(workspace))
    tags = list(Tag.objects.filter(workspace=workspace))
    form = AccountFilterForm(
        request.GET, workspace=workspace, stages=stages, roles=roles, members=members, tags=tags
    )
    filters = form.filters()
    owner_role = primary_role_of(roles)
    columns = list_attribute_columns(workspace)
    extra_columns = list_columns()
    where, catalog = cb.Checked(), None
    if filters.where:
        catalog = account_catalog(workspace)
        where = cb.check_text(filters.where, WHERE, catalog)
        if where.is_valid:
            filters = replace(filters, where=cb.compact(where.condition))

    # A condition with problems lists nothing: the panel shows what to fix.
    accounts = (
        accounts_for_list(workspace, filters, owner_role, catalog)
        if not filters.where or where.is_valid
        else Account.objects.none()
    )
    paginator = Paginator(accounts, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    total = paginator.count
    # Tell "nothing matches" from "nothing yet" with one cheap query, only when it matters.
    has_accounts = total > 0 or (
        filters.is_filtered and Account.objects.filter(workspace=workspace).exists()
    )

    headers = sort_headers(filters)
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "rows": make_rows(page.object_list, columns, extra_columns),
        "columns": columns,
        "extra_columns": [{"column": c, "header": headers.get(c.key)} for c in extra_columns],
        "owner_role": owner_role,
        "total": total,
        "has_accounts": has_accounts,
        "sort_headers": headers,
        "page_links": page_links(page, filters),
        "clear_url": list_url(AccountFilters(sort=filters.sort)),
        "can_create": actor.can(WRITE),
        **where_context(actor, where, catalog, filters),
    }
    partial = request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request
    if partial:
        response = render(request, "accounts/list.html#results", context)
        # The address bar shows the canonical query, so a reload renders this same page.
        push_url(response, list_url(filters, page=page.number))
    else:
        response = render(request, "accounts/list.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response
