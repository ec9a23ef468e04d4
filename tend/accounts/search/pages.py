"""Searching a population (accounts, end users) by condition, page after page.

A search is ``where`` (a condition, see docs/conditions.md), ``fields`` (catalog field
names to return beside the population's own columns), ``sort`` and a page size; the next
page comes from the cursor of the last.

Steps of :func:`search`:

1. check everything and report every problem at once, each naming its place
   (``where.all.1.value``, ``fields.2``, ``sort.0.field``, ``cursor``);
2. compile ``where`` to one filter (no condition: the whole population);
3. select the page with a keyset condition on the sort key values and id of the cursor's
   row — ``k1 >= v1 AND (k1 > v1 OR (k2 >= v2 AND (… OR id > last)))`` (with missing
   values last) — so the database starts at the position instead of counting rows to skip,
   and rows inserted meanwhile never shift a page;
4. read the fields of the page's ids: one query for those with a column, one (and the
   prefetches of its fields) for multi-valued ones.

The catalog (a few queries: stages, tags, roles, attribute definitions, providers) is
built only when the search names something beyond the population's own columns, so
paging through a whole population with the default sort costs one query a page, and with
fields two or three.
"""

import datetime
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Q

from tend.accounts.conditions import account_catalog, condition_now
from tend.accounts.models import Account, EndUser
from tend.accounts.search import columns, cursors
from tend.accounts.search.columns import SortKey
from tend.accounts.user_conditions import user_catalog
from tend.lib.conditions import Catalog, compile_q, validate
from tend.lib.errors import InvalidInput
from tend.workspaces.models import Workspace

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_FIELDS = 100
MAX_SORT = 5


@dataclass(frozen=True)
class Population:
    """What can be searched: its model, the columns every item carries, its catalog."""

    name: str  # "accounts" / "users": a cursor of one does not page the other
    model: type
    columns: tuple[str, ...]  # model columns, never NULL; "id" first
    catalog: Callable[[Workspace], Catalog]


ACCOUNTS = Population("accounts", Account, ("id", "external_id", "name"), account_catalog)
USERS = Population("users", EndUser, ("id", "external_id", "email", "name"), user_catalog)


@dataclass
class Search:
    where: Any = None
    fields: list = field(default_factory=list)
    sort: list = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


@dataclass
class Page:
    items: list[dict]
    next_cursor: str | None


class InvalidSearch(InvalidInput):
    """Every problem of a search, the first as the ``InvalidInput``."""

    def __init__(self, errors: list[dict]):
        super().__init__(errors[0]["field"], errors[0]["message"])
        self.errors = errors

    def as_dicts(self) -> list[dict]:
        return self.errors


def _unknown(name: str, catalog: Catalog | None, population: Population) -> str:
    known = [*population.columns, *(catalog or ())]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown field '{name}'{hint}"


def _parse_sort(raw: list, errors: list[dict]) -> list[tuple[str, bool, str]]:
    """``[(field name, descending, where to blame)]`` from ``{"field", "direction"}``
    objects or ``"name"`` / ``"-name"`` strings."""
    parsed = []
    if not isinstance(raw, list):
        errors.append({"field": "sort", "message": "expected a list"})
        return parsed
    if len(raw) > MAX_SORT:
        errors.append({"field": "sort", "message": f"at most {MAX_SORT} keys"})
        return parsed
    for i, item in enumerate(raw):
        at = f"sort.{i}"
        if isinstance(item, str):
            descending = item.startswith("-")
            name = item[1:] if descending else item
            parsed.append((name, descending, at))
            continue
        if not isinstance(item, dict):
            errors.append(
                {
                    "field": at,
                    "message": 'expected {"field": …, "direction": "asc"|"desc"} or "-field"',
                }
            )
            continue
        extra = sorted(set(item) - {"field", "direction"})
        if extra:
            errors.append(
                {"field": f"{at}.{extra[0]}", "message": "is not taken; use field and direction"}
            )
        name = item.get("field")
        direction = item.get("direction", "asc")
        if not isinstance(name, str):
            errors.append({"field": f"{at}.field", "message": "is required (a field name)"})
            continue
        if direction not in ("asc", "desc"):
            errors.append({"field": f"{at}.direction", "message": "expected 'asc' or 'desc'"})
            continue
        parsed.append((name, direction == "desc", f"{at}.field"))
    return parsed


@dataclass
class _Plan:
    keys: list[SortKey]
    key_specs: list[Any]  # the FieldSpecs of catalog sort keys
    sql_fields: list[Any]  # FieldSpecs read in the page query
    object_fields: list[Any]  # FieldSpecs read from objects
    catalog: Catalog | None
    condition: Any


def _plan(workspace: Workspace, population: Population, request: Search, now) -> _Plan:
    errors: list[dict] = []
    sort = _parse_sort(request.sort, errors)
    names = request.fields
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        errors.append({"field": "fields", "message": "expected a list of field names"})
        names = []
    elif len(names) > MAX_FIELDS:
        errors.append({"field": "fields", "message": f"at most {MAX_FIELDS} fields"})
        names = []
    own = set(population.columns)
    wanted = [n for n in dict.fromkeys(names) if n not in own]
    needs_catalog = (
        request.where is not None or bool(wanted) or any(name not in own for name, _d, _at in sort)
    )
    catalog = population.catalog(workspace) if needs_catalog else None
    if request.where is not None:
        errors.extend(e.as_dict("where") for e in validate(request.where, catalog))

    sql_fields, object_fields = [], []
    for name in wanted:
        spec = catalog.get(name)
        if spec is None:
            at = f"fields.{names.index(name)}"
            errors.append({"field": at, "message": _unknown(name, catalog, population)})
        elif columns.is_readable_in_sql(spec):
            sql_fields.append(spec)
        else:
            object_fields.append(spec)

    keys, key_specs = [], []
    for name, descending, at in sort:
        if name == "id":
            keys.append(SortKey("id", descending, F("id"), nullable=False, kind=columns.NUMBER))
        elif name in own:
            keys.append(columns.column_key(name, name, descending))
        elif (spec := catalog.get(name)) is None:
            errors.append({"field": at, "message": _unknown(name, catalog, population)})
        elif not columns.is_sortable(spec):
            errors.append(
                {"field": at, "message": f"'{name}' holds several values and cannot be sorted by"}
            )
        else:
            keys.append(columns.sort_key(population.model, spec, descending, now))
            key_specs.append(spec)
    if len({k.name for k in keys}) < len(keys):
        errors.append({"field": "sort", "message": "names a field more than once"})
    limit = request.limit
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        errors.append(
            {"field": "limit", "message": f"expected a whole number from 1 to {MAX_LIMIT}"}
        )
    if errors:
        raise InvalidSearch(errors)
    return _Plan(keys, key_specs, sql_fields, object_fields, catalog, request.where)


def _after(keys: list[SortKey], values: list, last_id: int, index: int = 0) -> Q:
    """Rows that come after the cursor's row in the order of ``keys`` then id."""
    if index == len(keys):
        # Equal on every key: the id decides, unless it was a key (then it is the same row).
        return Q(pk__in=[]) if any(k.name == "id" for k in keys) else Q(id__gt=last_id)
    key, value = keys[index], values[index]
    name = f"_s{index}"
    rest = _after(keys, values, last_id, index + 1)
    if value is None:
        # Missing values come last: after a missing one, only missing ones, by what follows.
        return Q(**{f"{name}__isnull": True}) & rest
    beyond = Q(**{f"{name}__{'lt' if key.descending else 'gt'}": value})
    at_least = Q(**{f"{name}__{'lte' if key.descending else 'gte'}": value})
    if key.nullable:
        missing = Q(**{f"{name}__isnull": True})
        beyond |= missing
        at_least |= missing
    return at_least & (beyond | rest)


def _ordering(keys: list[SortKey]) -> list:
    order = []
    for i, key in enumerate(keys):
        expression = F(f"_s{i}")
        nulls = {"nulls_last": True} if key.nullable else {}
        order.append(expression.desc(**nulls) if key.descending else expression.asc(**nulls))
    if not any(k.name == "id" for k in keys):
        order.append(F("id").asc())
    return order


def _with_aliases(queryset, specs):
    aliases = {}
    for spec in specs:
        # The condition may have added some already (the same expressions, by name).
        aliases.update(
            {k: v for k, v in spec.aliases.items() if k not in queryset.query.annotations}
        )
    return queryset.alias(**aliases) if aliases else queryset


def _matching(workspace: Workspace, population: Population, plan: _Plan, now):
    """The population filtered by the condition, with the aliases its sort keys need."""
    queryset = population.model.objects.filter(workspace=workspace)
    if plan.condition is not None:
        queryset = compile_q(plan.condition, plan.catalog, now).filter(queryset)
    return _with_aliases(queryset, plan.key_specs)


def _sort_keys(plan: _Plan) -> dict:
    return {f"_s{i}": key.expression for i, key in enumerate(plan.keys)}


def _items(population: Population, plan: _Plan, rows: list, now) -> list[dict]:
    """The page's items from its rows (the population's columns first), with the fields."""
    items = [dict(zip(population.columns, row, strict=False)) for row in rows]
    if plan.sql_fields and items:
        _read_columns(population, plan, items, now)
    if plan.object_fields and items:
        _read_objects(population, plan, items, now)
    return items


def _read_columns(population: Population, plan: _Plan, items: list[dict], now) -> None:
    """The fields read in SQL, for the page's ids, in one query.

    Apart from the page query, not inside it, and across relations by correlated
    subqueries (``columns.read_expression``): joined to the whole population, a field's table
    (usage, health) was merge-joined from its first row on PostgreSQL, so every page read all
    the rows before its own, and paging slowed down page after page.
    """
    selected = {}
    for i, spec in enumerate(plan.sql_fields):
        selected[f"_f{i}"] = columns.read_expression(population.model, spec, now)
        guard = columns.presence(spec)
        if guard is not None:
            selected[f"_p{i}"] = guard
    ids = [item["id"] for item in items]
    queryset = _with_aliases(population.model.objects.filter(pk__in=ids), plan.sql_fields)
    found = queryset.annotate(**selected).order_by().values_list("id", *selected)
    rows = {row[0]: row for row in found}
    at = {name: 1 + i for i, name in enumerate(selected)}
    for i, spec in enumerate(plan.sql_fields):
        name, read, value_at, guard_at = spec.name, spec.read, at[f"_f{i}"], at.get(f"_p{i}")
        for item in items:
            row = rows.get(item["id"])
            # A row deleted between the two queries shows its fields as missing.
            present = row is not None and (guard_at is None or row[guard_at])
            item[name] = read(row[value_at], now) if present else None


def search(
    workspace: Workspace,
    population: Population,
    request: Search,
    *,
    now: datetime.datetime | None = None,
) -> Page:
    """One page of ``population`` in ``workspace`` (see the module docstring). Raises
    :class:`InvalidSearch` (an ``InvalidInput``) naming every problem."""
    now = condition_now(workspace, now)
    plan = _plan(workspace, population, request, now)
    after = None
    if request.cursor:
        after = cursors.decode(request.cursor, population.name, plan.keys)
    selected = _sort_keys(plan)
    queryset = _matching(workspace, population, plan, now)
    if selected:
        queryset = queryset.annotate(**selected)
    if after is not None:
        queryset = queryset.filter(_after(plan.keys, *after))
    names = [*population.columns, *selected]
    rows = list(queryset.order_by(*_ordering(plan.keys)).values_list(*names)[: request.limit + 1])
    more = len(rows) > request.limit
    rows = rows[: request.limit]
    items = _items(population, plan, rows, now)
    next_cursor = None
    if more:
        last = rows[-1]
        width = len(population.columns)
        values = list(last[width : width + len(plan.keys)])
        next_cursor = cursors.encode(population.name, plan.keys, values, last[0])
    return Page(items, next_cursor)


def search_by_offset(
    workspace: Workspace,
    population: Population,
    request: Search,
    offset: int,
    *,
    now: datetime.datetime | None = None,
) -> tuple[list[dict], int]:
    """``(items, total matching)``: ``request.limit`` items after skipping ``offset``, for
    the Totango-compatible search (which pages by offset). The native search pages by
    cursor, since skipping rows costs more the further one goes."""
    now = condition_now(workspace, now)
    plan = _plan(workspace, population, request, now)
    matching = _matching(workspace, population, plan, now)
    total = matching.count()
    selected = _sort_keys(plan)
    queryset = matching.annotate(**selected) if selected else matching
    names = [*population.columns, *selected]
    ordered = queryset.order_by(*_ordering(plan.keys)).values_list(*names)
    rows = list(ordered[offset : offset + request.limit]) if offset < total else []
    return _items(population, plan, rows, now), total


def _read_objects(population: Population, plan: _Plan, items: list[dict], now) -> None:
    names = [spec.name for spec in plan.object_fields]
    objects = plan.catalog.prepare(
        population.model.objects.filter(pk__in=[item["id"] for item in items]), names
    )
    by_id = {obj.pk: obj for obj in objects}
    for item in items:
        obj = by_id.get(item["id"])
        for spec in plan.object_fields:
            # A row deleted between the two queries shows its fields as missing.
            stored = spec.get(obj) if obj is not None and spec.get else None
            item[spec.name] = spec.read(stored, now)
