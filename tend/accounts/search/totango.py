"""Totango's account search (``POST /api/v1/search/accounts``) answered from Tend, for teams
moving scripts and connectors (``tap-totango``) off Totango unchanged.

The query is Totango's JSON object (see docs/api.md and the shared wire-formats notes):

* ``terms`` — filters, all of which must hold, translated into a Tend condition:

  ==================================================================  ===========================
  ``{"type": "string", "term": T, "in_list": [...]}``                 ``{"field": F, "op": "in"}``
  ``{"type": "string_attribute", "attribute": A, "in_list": [...]}``  the attribute (or role) A
  ``{"type": "date", "term": T, "gte"|"gt"|"lte"|"lt"|"eq": ms}``     a day comparison per bound
  ``{"type": "simple_date_attribute", "attribute": A, …}``            the same on attribute A
  ``{"type": "or", "or": [terms]}``                                   ``{"any": [...]}``
  ==================================================================  ===========================

  Totango terms name Tend fields as :data:`TERMS` says (``status_group`` → ``status``,
  ``health`` → ``health.rank`` …); any Tend field name works as a term too. Attributes are
  found as the usage ingestion finds them: by key, by label, or either in snake_case
  (``Contract Value`` → ``contract_value``); assignment roles by name (``Success
  Manager``). Option values match whatever their case (``Paying``, ``Good``). Epoch-ms
  bounds compare by the day they fall on in the workspace's time zone.
* ``fields`` — what ``selected_fields`` holds, by position: ``string`` terms and
  ``*_attribute`` types as above. Dates and times come back as epoch milliseconds.
* ``count`` (1–1000, default 1000), ``offset`` (default 0), ``sort_by`` (default
  ``display_name``), ``sort_order`` (``ASC`` / ``DESC``). Unlike Totango's, there is no cap
  of 10,000 on how far ``offset`` may go.

Every problem is a :class:`TotangoError` naming its place in the query
(``query.terms.1.in_list``); the API answers it in Totango's failure envelope.
"""

import datetime
import re
from dataclasses import dataclass

import orjson

from tend.accounts.conditions import condition_now
from tend.accounts.search.columns import is_sortable
from tend.accounts.search.pages import ACCOUNTS, InvalidSearch, Search, search_by_offset
from tend.lib.conditions import Catalog, FieldType, validate
from tend.lib.conditions.moments import EPOCH, ONE_MS, to_epoch_ms
from tend.workspaces.models import Workspace

MAX_COUNT = 1000
# Totango's term names → Tend field names.
TERMS = {
    "status_group": "status",
    "identifier": "external_id",
    "account_id": "external_id",
    "name": "external_id",  # in Totango an account's "name" is its id
    "display_name": "name",
    "health": "health.rank",
    "last_activity_time": "usage.last_seen",
    "first_activity_time": "usage.first_seen",
    "create_date": "created_at",
}
DATE_BOUNDS = ("gte", "gt", "lte", "lt", "eq")
ATTRIBUTE_TYPES = (
    "string_attribute",
    "number_attribute",
    "simple_date_attribute",
    "date_attribute",
)
LAST_SEEN = "usage.last_seen"

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


class TotangoError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _snake(name: str) -> str:
    # As the usage ingestion matches trait names: "Contract Value" / "contractValue" → contract_value.
    return _NOT_WORD.sub("_", _CAMEL.sub("_", name.strip()).lower()).strip("_")


class _Names:
    """Totango names (terms, attribute names) → Tend field names of one catalog."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.attributes: dict[str, str] = {}
        for name, spec in catalog.items():
            prefix, _, key = name.partition(".")
            if prefix not in ("attributes", "owner") or not key:
                continue
            for alias in (key, _snake(key), spec.label.strip().lower(), _snake(spec.label)):
                self.attributes.setdefault(alias, name)

    def term(self, term, at: str) -> str:
        if not isinstance(term, str) or not term:
            raise TotangoError(at, "expected the name of a term")
        name = TERMS.get(term, term)
        if name not in self.catalog:
            raise TotangoError(at, f"unknown term '{term}'")
        return name

    def named(self, name) -> str | None:
        """The attribute or role field Totango calls ``name``, or None."""
        if not isinstance(name, str) or not name.strip():
            return None
        return (
            self.attributes.get(name)
            or self.attributes.get(name.strip().lower())
            or self.attributes.get(_snake(name))
        )

    def attribute(self, raw: dict, at: str) -> str:
        found = self.named(raw.get("query_term_id")) or self.named(raw.get("attribute"))
        if found:
            return found
        name = raw.get("attribute")
        if not isinstance(name, str) or not name.strip():
            raise TotangoError(f"{at}.attribute", "expected the name of an attribute")
        raise TotangoError(f"{at}.attribute", f"unknown attribute '{name}'")

    def sort(self, name, at: str) -> str:
        if isinstance(name, str) and TERMS.get(name, name) in self.catalog:
            found = TERMS.get(name, name)
        else:
            found = self.named(name)
        if not found:
            raise TotangoError(at, f"unknown term or attribute {name!r}")
        if not is_sortable(self.catalog[found]):
            raise TotangoError(at, f"{name!r} holds several values and cannot be sorted by")
        return found


@dataclass
class Query:
    condition: dict | None
    fields: list[str]  # Tend field names, in the order of selected_fields
    sort: list[str]
    count: int
    offset: int


def _day_of(ms, at: str, now: datetime.datetime) -> str:
    if isinstance(ms, bool) or not isinstance(ms, int | float):
        raise TotangoError(at, "expected a time in epoch milliseconds")
    try:
        moment = EPOCH + int(ms) * ONE_MS
    except OverflowError:
        raise TotangoError(at, "expected a time in epoch milliseconds") from None
    return moment.astimezone(now.tzinfo).date().isoformat()


def _options(values: list, spec) -> list:
    """Option values in the case the field's options use (Totango writes ``Paying``)."""
    if spec.type not in (FieldType.ENUM, FieldType.MULTI_ENUM) or not spec.options:
        return values
    by_case = {option.lower(): option for option in spec.options}
    return [by_case.get(v.lower(), v) if isinstance(v, str) else v for v in values]


def _checked(clause: dict, names: _Names, at: str, value_at: str) -> dict:
    errors = validate(clause, names.catalog)
    if errors:
        error = errors[0]
        where = value_at if error.path == "value" or error.path.startswith("value.") else at
        raise TotangoError(where, error.message)
    return clause


def _term(raw, at: str, names: _Names, now) -> dict:
    if not isinstance(raw, dict):
        raise TotangoError(at, "expected a term object")
    kind = raw.get("type")
    if kind == "or":
        items = raw.get("or")
        if not isinstance(items, list) or not items:
            raise TotangoError(f"{at}.or", "expected a non-empty list of terms")
        return {"any": [_term(item, f"{at}.or.{i}", names, now) for i, item in enumerate(items)]}
    if kind == "string" or kind in ATTRIBUTE_TYPES:
        field = (
            names.term(raw.get("term"), f"{at}.term")
            if kind == "string"
            else names.attribute(raw, at)
        )
        if kind in ("simple_date_attribute", "date_attribute"):
            return _date_term(raw, at, field, names, now)
        values = raw.get("in_list")
        if not isinstance(values, list) or not values:
            raise TotangoError(f"{at}.in_list", "expected a non-empty list of values")
        clause = {"field": field, "op": "in", "value": _options(values, names.catalog[field])}
        return _checked(clause, names, at, f"{at}.in_list")
    if kind == "date":
        return _date_term(raw, at, names.term(raw.get("term"), f"{at}.term"), names, now)
    supported = "string, string_attribute, date, simple_date_attribute, or"
    raise TotangoError(f"{at}.type", f"unsupported term type {kind!r}; use one of {supported}")


def _date_term(raw: dict, at: str, field: str, names: _Names, now) -> dict:
    bounds = [b for b in DATE_BOUNDS if b in raw]
    if not bounds:
        raise TotangoError(at, f"expected a bound: one of {', '.join(DATE_BOUNDS)} (epoch ms)")
    clauses = [
        _checked(
            {"field": field, "op": bound, "value": _day_of(raw[bound], f"{at}.{bound}", now)},
            names,
            at,
            f"{at}.{bound}",
        )
        for bound in bounds
    ]
    return clauses[0] if len(clauses) == 1 else {"all": clauses}


def _field(raw, at: str, names: _Names) -> str:
    if not isinstance(raw, dict):
        raise TotangoError(at, "expected a field object")
    kind = raw.get("type")
    if kind == "string":
        return names.term(raw.get("term"), f"{at}.term")
    if kind in ATTRIBUTE_TYPES:
        return names.attribute(raw, at)
    raise TotangoError(
        f"{at}.type",
        f"unsupported field type {kind!r}; use string or one of {', '.join(ATTRIBUTE_TYPES)}",
    )


def _whole(raw: dict, key: str, default: int, low: int, high: int | None) -> int:
    value = raw.get(key, default)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
    if not ok or (high is not None and value > high):
        span = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise TotangoError(f"query.{key}", f"expected a whole number {span}")
    return value


def parse_query(raw, catalog: Catalog, now: datetime.datetime) -> Query:
    """Totango's query (the JSON text, or the object itself) as a Tend search."""
    if isinstance(raw, str | bytes):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise TotangoError("query", f"is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise TotangoError("query", "expected a JSON object with terms and fields")
    names = _Names(catalog)
    terms = raw.get("terms", [])
    if not isinstance(terms, list):
        raise TotangoError("query.terms", "expected a list of terms")
    clauses = [_term(term, f"query.terms.{i}", names, now) for i, term in enumerate(terms)]
    fields = raw.get("fields", [])
    if not isinstance(fields, list):
        raise TotangoError("query.fields", "expected a list of fields")
    chosen = [_field(item, f"query.fields.{i}", names) for i, item in enumerate(fields)]
    order = raw.get("sort_order", "ASC")
    if not isinstance(order, str) or order.upper() not in ("ASC", "DESC"):
        raise TotangoError("query.sort_order", "expected ASC or DESC")
    sort_by = names.sort(raw.get("sort_by", "display_name"), "query.sort_by")
    return Query(
        condition={"all": clauses} if clauses else None,
        fields=chosen,
        sort=[("-" if order.upper() == "DESC" else "") + sort_by],
        count=_whole(raw, "count", MAX_COUNT, 1, MAX_COUNT),
        offset=_whole(raw, "offset", 0, 0, None),
    )


def _totango_value(value):
    """Dates and times as Totango sends them: epoch milliseconds."""
    if isinstance(value, datetime.datetime):
        return to_epoch_ms(value)
    if isinstance(value, datetime.date):
        return to_epoch_ms(datetime.datetime.combine(value, datetime.time(), tzinfo=datetime.UTC))
    return value


def search_accounts(workspace: Workspace, raw_query, catalog: Catalog) -> dict:
    """The ``response`` part of Totango's envelope for ``raw_query``."""
    now = condition_now(workspace)
    query = parse_query(raw_query, catalog, now)
    extra = [LAST_SEEN] if LAST_SEEN in catalog else []
    request = Search(
        where=query.condition,
        fields=list(dict.fromkeys([*query.fields, *extra])),
        sort=query.sort,
        limit=query.count,
    )
    try:
        items, total = search_by_offset(workspace, ACCOUNTS, request, query.offset, now=now)
    except InvalidSearch as exc:  # the translation is checked above; this is a safety net
        raise TotangoError("query", exc.message) from exc
    hits = [
        {
            "name": item["external_id"],
            "display_name": item["name"],
            "last_activity_time": _totango_value(item.get(LAST_SEEN)),
            "selected_fields": [_totango_value(item.get(name)) for name in query.fields],
        }
        for item in items
    ]
    return {"accounts": {"total_hits": total, "hits": hits, "stats": {}}}
