"""Checking a condition against a catalog: every problem, each named by its clause."""

import difflib
import math

from tend.lib.conditions.fields import Catalog, FieldSpec, FieldType
from tend.lib.conditions.moments import parse_day
from tend.lib.conditions.operators import (
    CHANGE_DAYS,
    MAX_DAYS,
    OPERATORS,
    Shape,
    field_operators,
)
from tend.lib.conditions.tree import (
    ConditionError,
    InvalidCondition,
    Leaf,
    join,
    parse,
    walk_leaves,
)

MAX_LIST = 1000
MAX_TEXT = 1000
# Numbers beyond this lose whole-number precision in JSON and in a float column.
MAX_NUMBER = 2**53
TYPE_WORDS = {
    FieldType.TEXT: "text",
    FieldType.NUMBER: "a number",
    FieldType.DATE: "a date as YYYY-MM-DD",
    FieldType.DATETIME: "a date as YYYY-MM-DD",
    FieldType.BOOLEAN: "true or false",
    FieldType.ENUM: "one of the options",
    FieldType.MULTI_ENUM: "one of the options",
}


def validate(condition, catalog: Catalog) -> list[ConditionError]:
    """Every problem with ``condition`` against ``catalog``; an empty list when it is valid.

    Structure first (a group holds a list, a clause has a field and a known operator); then
    each clause: the field exists, the operator applies to its type, the value has the shape
    and type the operator takes (``between`` two values in order, ``in`` a non-empty list,
    ``is_set`` none, relative dates a whole number of days), enum values are options; a
    change clause needs a field whose past values are kept (``FieldSpec.past``), ``days``
    from ``CHANGE_DAYS`` and a number other than 0.
    """
    tree, errors = parse(condition)
    if errors:
        return errors
    for leaf in walk_leaves(tree):
        errors.extend(_check_leaf(leaf, catalog))
    return errors


def require_valid(condition, catalog: Catalog, prefix: str = "") -> None:
    """Raise :class:`InvalidCondition` (an ``InvalidInput`` naming the clause under
    ``prefix``, e.g. ``"where"``) when ``condition`` does not validate."""
    errors = validate(condition, catalog)
    if errors:
        raise InvalidCondition(errors, prefix)


def _check_leaf(leaf: Leaf, catalog: Catalog) -> list[ConditionError]:
    spec = catalog.get(leaf.field)
    if spec is None:
        return [ConditionError(leaf.at("field"), _unknown_field(leaf.field, catalog))]
    op = OPERATORS[leaf.op]
    if op not in field_operators(spec):
        usable = ", ".join(o.name for o in field_operators(spec))
        return [
            ConditionError(
                leaf.at("op"),
                f"'{op.name}' does not apply to {spec.name} ({spec.type}); use one of {usable}",
            )
        ]
    if op.is_change:
        return _check_change(leaf, spec)
    where = leaf.at("value")
    if op.shape == Shape.NONE:
        if leaf.has_value:
            return [ConditionError(where, f"'{op.name}' takes no value")]
        return []
    if not leaf.has_value:
        return [ConditionError(where, "is required")]
    value = leaf.value
    if op.shape == Shape.DAYS:
        if not _is_int(value) or not 0 <= value <= MAX_DAYS:
            return [ConditionError(where, f"expected a whole number of days from 0 to {MAX_DAYS}")]
        return []
    if op.shape == Shape.ONE:
        return _check_scalar(spec, value, where)
    if op.shape == Shape.TWO:
        if not isinstance(value, list) or len(value) != 2:
            return [ConditionError(where, "expected a list of two values: [low, high]")]
        problems = [e for i, item in enumerate(value) for e in _check_scalar(spec, item, join(where, i))]
        if not problems and _ordered_key(spec, value[0]) > _ordered_key(spec, value[1]):
            problems.append(ConditionError(where, "the first value must not be above the second"))
        return problems
    # Shape.MANY
    if not isinstance(value, list) or not value:
        return [ConditionError(where, "expected a non-empty list of values")]
    if len(value) > MAX_LIST:
        return [ConditionError(where, f"has {len(value)} values; at most {MAX_LIST}")]
    return [e for i, item in enumerate(value) for e in _check_scalar(spec, item, join(where, i))]


def _check_change(leaf: Leaf, spec: FieldSpec) -> list[ConditionError]:
    problems = []
    days = leaf.extras.get("days")
    spans = ", ".join(str(d) for d in CHANGE_DAYS)
    if days is None:
        problems.append(ConditionError(leaf.at("days"), f"is required: one of {spans}"))
    elif not _is_int(days) or days not in CHANGE_DAYS:
        problems.append(ConditionError(leaf.at("days"), f"expected one of {spans}, got {_shown(days)}"))
    where = leaf.at("value")
    if not leaf.has_value:
        problems.append(ConditionError(where, "is required"))
    elif not _is_number(leaf.value):
        problems.append(ConditionError(where, f"expected a number, got {_shown(leaf.value)}"))
    elif leaf.value == 0:
        problems.append(
            ConditionError(where, "expected a rise above 0 or a fall below 0, not 0")
        )
    elif abs(leaf.value) > MAX_NUMBER:
        problems.append(ConditionError(where, f"is too large (at most {MAX_NUMBER:,} either way)"))
    return problems


def _check_scalar(spec: FieldSpec, value, where: str) -> list[ConditionError]:
    kind = spec.type

    def wrong():
        return [ConditionError(where, f"expected {TYPE_WORDS[kind]}, got {_shown(value)}")]

    if spec.ids:
        if not _is_int(value):
            expected = f"expected the id of a {spec.label.lower()} (a whole number)"
            return [ConditionError(where, f"{expected}, got {_shown(value)}")]
        if spec.options is not None and value not in spec.options:
            return [ConditionError(where, f"unknown {spec.label.lower()} {value}")]
        return []
    if kind == FieldType.NUMBER:
        if not _is_number(value):
            return wrong()
        if abs(value) > MAX_NUMBER:
            return [ConditionError(where, f"is too large (at most {MAX_NUMBER:,} either way)")]
        return []
    if kind == FieldType.BOOLEAN:
        return [] if isinstance(value, bool) else wrong()
    if kind in (FieldType.DATE, FieldType.DATETIME):
        if not isinstance(value, str):
            return wrong()
        try:
            parse_day(value)
        except ValueError as exc:
            return [ConditionError(where, str(exc))]
        return []
    if not isinstance(value, str):
        return wrong()
    if not value.strip():
        return [ConditionError(where, "must not be empty")]
    if len(value) > MAX_TEXT:
        return [ConditionError(where, f"is longer than {MAX_TEXT} characters")]
    closed = kind in (FieldType.ENUM, FieldType.MULTI_ENUM) and spec.options is not None
    if closed and value not in spec.options:
        return [ConditionError(where, f"unknown option {value!r}; {_options(spec.options)}")]
    return []


def _ordered_key(spec: FieldSpec, value):
    return value if spec.type == FieldType.NUMBER else parse_day(value)


def _is_number(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else "text"
    return repr(value)


def _options(options: tuple[str, ...]) -> str:
    if not options:
        return "this field has no options yet"
    shown = ", ".join(options[:20])
    more = f" and {len(options) - 20} more" if len(options) > 20 else ""
    return f"options: {shown}{more}"


def _unknown_field(name: str, catalog: Catalog) -> str:
    close = difflib.get_close_matches(name, list(catalog), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown field '{name}'{hint}"
