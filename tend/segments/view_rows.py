"""A saved view's accounts, read through the accounts search (``tend.accounts.search``).

A view is a search with its parameters saved: ``where`` is the view's accounts as a
condition (``segment in [id]`` for a segment's members), ``fields`` its columns and
``sort`` its sort. So the view page, ``GET /views/{id}/accounts`` and the search API read,
sort and page the same fields the same way — missing values last in both directions, ties
by id — for any field the condition catalog has, whichever app adds it.

A view saved earlier may name a field the workspace no longer has (an attribute deleted
since): such a column or sort key is left out and listed in ``stale``, so the page can say
so; the rest of the view still works.
"""

import dataclasses
import datetime
from dataclasses import dataclass, field

from django.db.models import F

from tend.accounts.conditions import account_catalog, condition_now
from tend.accounts.models import Account
from tend.accounts.search import ACCOUNTS, Page, Population, Search, search, search_by_offset
from tend.accounts.search.columns import column_key, is_sortable, sort_key
from tend.lib.conditions import Catalog, compile_q, validate
from tend.segments.kpis import segment_clause
from tend.segments.scorecard_models import Source
from tend.segments.view_models import SavedView


class ViewProblem(Exception):
    """Why a view lists nothing now: its segment was deleted, or its condition names a field
    the workspace no longer has. ``field`` is the view's field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def view_condition(view: SavedView) -> dict | None:
    """The view's accounts as a condition; None for every account."""
    if view.source == Source.SEGMENT:
        if view.segment_id is None:
            raise ViewProblem(
                "segment", "Its segment was deleted: choose another segment or a condition."
            )
        return segment_clause(view.segment_id)
    if view.source == Source.CONDITION:
        return view.condition
    return None


def _accounts(catalog: Catalog) -> Population:
    """The accounts population with the catalog already built (the search would build it
    again otherwise); its cursors are the search API's."""
    return dataclasses.replace(ACCOUNTS, catalog=lambda workspace: catalog)


@dataclass
class Plan:
    """What a view reads now: its usable columns and sort, and what it had to leave out."""

    condition: dict | None
    columns: list[str]
    sort: list[str]
    stale: list[str] = field(default_factory=list)


def plan(view: SavedView, catalog: Catalog, sort: list[str] | None = None) -> Plan:
    """The view's search, ``sort`` replacing its own (a click on a column header)."""
    stale = []
    columns = []
    for name in view.columns:
        (columns if name in catalog else stale).append(name)
    keys = []
    for key in view.sort if sort is None else sort:
        name = key.removeprefix("-")
        if name in ACCOUNTS.columns or (name in catalog and is_sortable(catalog[name])):
            keys.append(key)
        elif name not in stale:
            stale.append(name)
    condition = view_condition(view)
    errors = validate(condition, catalog) if condition is not None else []
    if errors:
        raise ViewProblem(
            "condition",
            f"Its condition no longer holds ({errors[0]}): the field it names may have been "
            "deleted. Edit the view's condition.",
        )
    return Plan(condition, columns, keys, stale)


def search_view(
    view: SavedView,
    *,
    limit: int,
    cursor: str | None = None,
    catalog: Catalog | None = None,
    now: datetime.datetime | None = None,
) -> tuple[Page, Plan]:
    """One page of the view's accounts by keyset cursor (the API)."""
    catalog = catalog or account_catalog(view.workspace)
    used = plan(view, catalog)
    request = Search(
        where=used.condition, fields=used.columns, sort=used.sort, limit=limit, cursor=cursor
    )
    return search(view.workspace, _accounts(catalog), request, now=now), used


def numbered_page(
    view: SavedView,
    used: Plan,
    catalog: Catalog,
    *,
    number: int,
    size: int,
    now: datetime.datetime | None = None,
) -> tuple[list[dict], int]:
    """``(items, total)`` of page ``number`` (from 1) of ``size`` accounts (the page)."""
    request = Search(where=used.condition, fields=used.columns, sort=used.sort, limit=size)
    offset = (number - 1) * size
    return search_by_offset(view.workspace, _accounts(catalog), request, offset, now=now)


def sorted_accounts(view: SavedView, used: Plan, catalog: Catalog, now=None):
    """The view's accounts as a queryset in its sort (missing values last, ties by id), for
    an export: the order the page and the API show."""
    now = condition_now(view.workspace, now)
    queryset = Account.objects.filter(workspace=view.workspace)
    if used.condition is not None:
        queryset = compile_q(used.condition, catalog, now).filter(queryset)
    annotations, order = {}, []
    for i, key in enumerate(used.sort):
        name, descending = key.removeprefix("-"), key.startswith("-")
        if name in ACCOUNTS.columns:
            sort = column_key(name, name, descending)
        else:
            spec = catalog[name]
            queryset = queryset.alias(
                **{k: v for k, v in spec.aliases.items() if k not in queryset.query.annotations}
            )
            sort = sort_key(Account, spec, descending, now)
        annotations[f"_s{i}"] = sort.expression
        expression = F(f"_s{i}")
        nulls = {"nulls_last": True} if sort.nullable else {}
        order.append(expression.desc(**nulls) if sort.descending else expression.asc(**nulls))
    if annotations:
        queryset = queryset.alias(**annotations)
    return queryset.order_by(*order, "pk")
