"""A condition as one database filter over a whole population.

Every leaf compiles to a ``Q`` that is never NULL in SQL: a positive operator is ANDed
with "the value is set" (``lookup IS NOT NULL``, not empty text, the catalog's ``present``
guard), and ``NULL AND FALSE`` is FALSE. So a ``NOT`` — from ``{"not": …}`` or from a
negating operator — is the exact complement, as in the evaluator, and a missing value
never makes a row vanish from both a condition and its negation.

Two kinds of clause compile to an uncorrelated ``pk IN (subquery)`` (see ``fields.py``):
a field read from **rows** of another table, and a **change** clause, which selects the ids
of the field's past relation ``(id, now_value, then_value)`` whose change passes::

    changed_by      value > 0:  now - then >= value          value < 0:  now - then <= value
    changed_by_pct  then <> 0 and (now - then) × 100  >=  |then| × value   (<= for a fall)

The percentage is never divided out, so no division by zero can occur and both sides do
the same floating-point steps (``value`` is cast to double precision, as Python's float).
A subquery's ids are never NULL, so ``NOT (pk IN …)`` is the exact complement too.
"""

import math
from dataclasses import dataclass, field, replace
from functools import reduce
from operator import and_, or_

from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from tend.lib.conditions.fields import Catalog, FieldSpec, FieldType, Storage
from tend.lib.conditions.moments import as_now, days, parse_day, start_of, to_epoch_ms
from tend.lib.conditions.operators import OPERATORS
from tend.lib.conditions.tree import Group, Leaf, Not, parse
from tend.lib.conditions.validation import require_valid

# Types whose value_lookup reads the empty text as NULL (see _value_lookup_q).
_EMPTY_AS_NULL = (FieldType.TEXT, FieldType.ENUM, FieldType.DATE)
# pk__in=[] is Django's way of saying "no row"; its negation is "every row".
NOTHING = Q(pk__in=[])
EVERYTHING = ~Q(pk__in=[])
# Whole days a days-since bound may reach either way (about 1,900 years): beyond it a
# datetime cannot be built, and no stored instant is that old anyway.
MAX_DAYS_SINCE = 700_000


@dataclass(frozen=True)
class Compiled:
    """A compiled condition: ``q`` filters the population once ``aliases`` are added."""

    q: Q
    aliases: dict = field(default_factory=dict)

    def filter(self, queryset: QuerySet) -> QuerySet:
        if self.aliases:
            queryset = queryset.alias(**self.aliases)
        return queryset.filter(self.q)


def compile_q(condition, catalog: Catalog, now) -> Compiled:
    """Compile ``condition`` against ``catalog`` (raises ``InvalidCondition`` when it does not
    validate). ``now`` is an aware datetime in the workspace's time zone. No queries."""
    require_valid(condition, catalog)
    tree, _errors = parse(condition)
    aliases: dict = {}
    q = _node_q(tree, catalog, as_now(now), aliases)
    return Compiled(q, aliases)


def _node_q(node, catalog: Catalog, now, aliases: dict) -> Q:
    if isinstance(node, Group):
        parts = [_node_q(child, catalog, now, aliases) for child in node.children]
        if not parts:
            return EVERYTHING if node.kind == "all" else NOTHING
        return reduce(and_ if node.kind == "all" else or_, parts)
    if isinstance(node, Not):
        return ~_node_q(node.child, catalog, now, aliases)
    assert isinstance(node, Leaf)
    spec = catalog[node.field]
    aliases.update(spec.aliases)
    return leaf_q(spec, node.op, node.value, now, node.extras.get("days"))


def leaf_q(spec: FieldSpec, op: str, value, now, days: int | None = None) -> Q:
    """The filter for one clause ``{field: spec, op, value[, days]}``, for a valid clause."""
    operator = OPERATORS[op]
    if operator.negates:
        return ~leaf_q(spec, operator.negates, value, now, days)
    if operator.is_change:
        return _change_q(spec, op, value, days, now)
    if spec.is_multi:
        return _holds_q(spec, op, value)
    if spec.value_lookup:
        return _value_lookup_q(spec, op, value, now)
    present = set_q(spec)
    q = present if op == "is_set" else _SQL[op](spec, value, now) & present
    if spec.rows is not None:
        # Parts hold different objects, so the clause holds on one part or on none of them.
        parts = [Q(pk__in=part.filter(q).values(spec.rows_key)) for part in spec.row_parts(now)]
        return reduce(or_, parts)
    return q


def _value_lookup_q(spec: FieldSpec, op: str, value, now) -> Q:
    """A clause on a field with a ``value_lookup``: ``test AND present``, with ``value IS NOT
    NULL`` between them for text, whose empty value reads as NULL. The test reads the value
    and comes first, so for most rows it is the only JSON read; the type guard runs on the
    rows that pass it and discards a result reached on a value of another type. Never NULL:
    with the guard true and the value set, the test is not NULL. (Not ``COALESCE(test AND
    present, FALSE)``: PostgreSQL cannot estimate a COALESCE, and then hash-joins whole
    usage and health tables for the few rows that pass.)"""
    tested = replace(spec, lookup=spec.value_lookup, value_lookup="")
    present = spec.present
    if spec.type in _EMPTY_AS_NULL:
        present = Q(**{f"{spec.value_lookup}__isnull": False}) & present
    if op == "is_set":
        return present
    return _SQL[op](tested, value, now) & present


def change_condition(op: str, value) -> tuple[str, list]:
    """The SQL test of a change clause on a relation ``r(now_value, then_value)``."""
    compare = ">=" if value > 0 else "<="
    diff = "(r.now_value - r.then_value)"
    number = "CAST(%s AS DOUBLE PRECISION)"
    if op == "changed_by":
        return f"{diff} {compare} {number}", [value]
    return f"r.then_value <> 0 AND {diff} * 100 {compare} ABS(r.then_value) * {number}", [value]


def _change_q(spec: FieldSpec, op: str, value, days: int, now) -> Q:
    relation, params = spec.past(days, now, None)
    test, test_params = change_condition(op, value)
    # The relation's SQL comes from the field's provider and the test from above; every
    # value is a parameter.
    sql = (
        f"SELECT r.id FROM ({relation}) r "  # noqa: S608
        f"WHERE r.now_value IS NOT NULL AND r.then_value IS NOT NULL AND {test}"
    )
    return Q(pk__in=RawSQL(sql, (*params, *test_params)))  # noqa: S611


def set_q(spec: FieldSpec) -> Q:
    """Where the field has a value: not NULL, not empty text, and the catalog's guard."""
    q = Q(**{f"{spec.lookup}__isnull": False})
    if spec.type in (FieldType.TEXT, FieldType.ENUM):
        q &= ~Q(**{spec.lookup: ""})
    if spec.present is not None:
        q &= spec.present
    return q


def _holds_q(spec: FieldSpec, op: str, value) -> Q:
    if op == "is_set":
        return spec.holds(None)
    if op == "contains":
        return spec.holds([value])
    return spec.holds(list(value))  # "in": holds any of them


def _stored(spec: FieldSpec, value):
    """A valid condition value as the column stores it (dates parsed, as ISO text in JSON)."""
    if spec.type == FieldType.DATE:
        day = parse_day(value)
        return day.isoformat() if spec.storage == Storage.ISO_DATE else day
    return value


def _instant(spec: FieldSpec, lookup: str, moment) -> Q:
    stored = to_epoch_ms(moment) if spec.storage == Storage.EPOCH_MS else moment
    return Q(**{f"{spec.lookup}__{lookup}": stored})


def _day(spec: FieldSpec, lookup: str, day) -> Q:
    stored = day.isoformat() if spec.storage == Storage.ISO_DATE else day
    return Q(**{f"{spec.lookup}__{lookup}": stored})


def _eq(spec: FieldSpec, value, now) -> Q:
    if spec.type == FieldType.DATETIME or spec.storage == Storage.DAYS_SINCE:
        return _compare(spec, "gte", value, now) & _compare(spec, "lte", value, now)
    if spec.integer:
        return Q(**{spec.lookup: int(value)}) if _is_whole(value) else NOTHING
    return Q(**{spec.lookup: _stored(spec, value)})


def _is_whole(value) -> bool:
    return isinstance(value, int) or float(value).is_integer()


# An integer column compared with any number, as a comparison with a whole number:
# x > 2.5 ⇔ x > 2, x ≥ 2.5 ⇔ x ≥ 3, x < 2.5 ⇔ x < 3, x ≤ 2.5 ⇔ x ≤ 2 (and so for negatives).
_WHOLE = {"gt": math.floor, "gte": math.ceil, "lt": math.ceil, "lte": math.floor}


# A datetime compared with a day: (lookup on the instant, days after the day it starts).
_DAY_BOUNDS = {"gt": ("gte", 1), "gte": ("gte", 0), "lt": ("lt", 0), "lte": ("lt", 1)}


def _compare(spec: FieldSpec, op: str, value, now) -> Q:
    if spec.storage == Storage.DAYS_SINCE:
        return _days_since(spec, op, value, now)
    if spec.type == FieldType.DATETIME:
        lookup, shift = _DAY_BOUNDS[op]
        return _instant(spec, lookup, start_of(parse_day(value) + days(shift), now))
    if spec.integer:
        value = _WHOLE[op](value)
    return Q(**{f"{spec.lookup}__{op}": _stored(spec, value)})


def _days_since(spec: FieldSpec, op: str, value, now) -> Q:
    """``whole days since t  <op>  value`` as a bound on t.

    With d = floor((now - t) / 1 day) and n a whole number: d ≥ n ⇔ t ≤ now - n days, and
    d < n ⇔ t > now - n days. So d ≥ v uses n = ceil(v), d > v uses n = floor(v) + 1,
    d ≤ v is not (d > v), d < v is not (d ≥ v) — the last two on an instant that is set.
    """
    n = math.ceil(value) if op in ("gte", "lt") else math.floor(value) + 1
    bound = now - days(max(-MAX_DAYS_SINCE, min(MAX_DAYS_SINCE, n)))
    return _instant(spec, "lte" if op in ("gte", "gt") else "gt", bound)


def _between(spec: FieldSpec, value, now) -> Q:
    low, high = value
    return _compare(spec, "gte", low, now) & _compare(spec, "lte", high, now)


def _in(spec: FieldSpec, value, now) -> Q:
    if spec.storage == Storage.DAYS_SINCE:
        return reduce(or_, (_eq(spec, item, now) for item in value))
    if spec.integer:
        whole = [int(item) for item in value if _is_whole(item)]
        return Q(**{f"{spec.lookup}__in": whole}) if whole else NOTHING
    return Q(**{f"{spec.lookup}__in": list(value)})


def _relative(op: str):
    def compile_(spec: FieldSpec, n, now) -> Q:
        if spec.type == FieldType.DATETIME:
            low, high, bound = now - days(n), now + days(n), _instant
            origin = now
        else:
            today = now.date()
            low, high, bound = today - days(n), today + days(n), _day
            origin = today
        if op == "within_last_days":
            return bound(spec, "gte", low) & bound(spec, "lte", origin)
        if op == "within_next_days":
            return bound(spec, "gte", origin) & bound(spec, "lte", high)
        return bound(spec, "lt", low)  # more_than_days_ago

    return compile_


_SQL = {
    "eq": _eq,
    "gt": lambda spec, value, now: _compare(spec, "gt", value, now),
    "gte": lambda spec, value, now: _compare(spec, "gte", value, now),
    "lt": lambda spec, value, now: _compare(spec, "lt", value, now),
    "lte": lambda spec, value, now: _compare(spec, "lte", value, now),
    "between": _between,
    "in": _in,
    "contains": lambda spec, value, now: Q(**{f"{spec.lookup}__icontains": value}),
    "starts_with": lambda spec, value, now: Q(**{f"{spec.lookup}__istartswith": value}),
    "within_last_days": _relative("within_last_days"),
    "within_next_days": _relative("within_next_days"),
    "more_than_days_ago": _relative("more_than_days_ago"),
}
