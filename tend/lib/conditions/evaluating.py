"""A condition tested on one record in Python, agreeing with the compiled filter.

A record is ``{field name: value}`` with values as :meth:`Catalog.record` gives them: text
and enums as str, numbers as int/float, dates as ``date``, datetimes as aware
``datetime``, booleans as bool, multi-valued fields as a list of str; None (or an absent
key, empty text, an empty list) is missing. The operator is picked from the clause and the
comparison from the value's type, so no catalog is needed here. A value of an unexpected
type compares like a missing one (the SQL side's ``present`` guards do the same).
"""

import datetime

from tend.lib.conditions.fields import past_key
from tend.lib.conditions.moments import as_now, days, local_day, parse_day
from tend.lib.conditions.operators import OPERATORS
from tend.lib.conditions.tree import Group, InvalidCondition, Leaf, Not, parse

_MULTI = (list, tuple, set, frozenset)


def evaluate(condition, record: dict, now) -> bool:
    """Whether ``record`` satisfies ``condition``. ``now`` is an aware datetime in the
    workspace's time zone. Raises ``InvalidCondition`` for a malformed condition; validate
    against the catalog first for clause-level checks of fields and values."""
    tree, errors = parse(condition)
    if errors:
        raise InvalidCondition(errors)
    return _node(tree, record, as_now(now))


def _node(node, record: dict, now) -> bool:
    if isinstance(node, Group):
        results = (_node(child, record, now) for child in node.children)
        return all(results) if node.kind == "all" else any(results)
    if isinstance(node, Not):
        return not _node(node.child, record, now)
    assert isinstance(node, Leaf)
    value = record.get(node.field)
    if OPERATORS[node.op].is_change:
        value = (value, record.get(past_key(node.field, node.extras.get("days"))))
    return test_leaf(node.op, value, node.value, now)


def test_leaf(op: str, value, operand, now) -> bool:
    """One clause on one value, for a valid clause (a change clause: on the pair of values
    now and then)."""
    operator = OPERATORS[op]
    if operator.negates:
        return not test_leaf(operator.negates, value, operand, now)
    if op == "is_set":
        return not is_missing(value)
    if is_missing(value):
        return False
    try:
        return bool(_TESTS[op](value, operand, now))
    except (TypeError, ValueError):
        return False  # a value of another type than the clause's: treated as missing


def is_missing(value) -> bool:
    return value is None or value == "" or (isinstance(value, _MULTI) and not value)


def _number(value):
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("not a number")
    return value


def _pair(value, operand, now) -> tuple:
    """The value and the operand as two comparable things: a datetime compares by its local
    day, a date by itself, a number as a number."""
    if isinstance(value, datetime.datetime):
        return local_day(value, now), parse_day(operand)
    if isinstance(value, datetime.date):
        return value, parse_day(operand)
    return _number(value), _number(operand)


def _eq(value, operand, now) -> bool:
    if isinstance(value, datetime.date | bool | int | float):
        if isinstance(value, bool) or isinstance(operand, bool):
            return isinstance(value, bool) and isinstance(operand, bool) and value == operand
        left, right = _pair(value, operand, now)
        return left == right
    if isinstance(value, str) and isinstance(operand, str):
        return value == operand
    return False


def _ordered(compare):
    def test(value, operand, now) -> bool:
        left, right = _pair(value, operand, now)
        return compare(left, right)

    return test


def _between(value, operand, now) -> bool:
    low, high = operand
    left, lowest = _pair(value, low, now)
    _left, highest = _pair(value, high, now)
    return lowest <= left <= highest


def _in(value, operand, now) -> bool:
    if isinstance(value, _MULTI):
        return any(item in value for item in operand)
    return any(_eq(value, item, now) for item in operand)


def _contains(value, operand, now) -> bool:
    if isinstance(value, _MULTI):
        return operand in value
    if isinstance(value, str) and isinstance(operand, str):
        return operand.lower() in value.lower()
    return False


def _starts_with(value, operand, now) -> bool:
    if isinstance(value, str) and isinstance(operand, str):
        return value.lower().startswith(operand.lower())
    return False


def _window(value, n: int, now) -> tuple:
    """(value, origin, n days) in the value's terms: instants for a datetime, days for a date."""
    if isinstance(value, bool) or not isinstance(n, int):
        raise TypeError("not a number of days")
    if isinstance(value, datetime.datetime):
        return value, now, days(n)
    if isinstance(value, datetime.date):
        return value, now.date(), days(n)
    raise TypeError("not a date")


def _within_last(value, n, now) -> bool:
    value, origin, span = _window(value, n, now)
    return origin - span <= value <= origin


def _within_next(value, n, now) -> bool:
    value, origin, span = _window(value, n, now)
    return origin <= value <= origin + span


def _more_than_ago(value, n, now) -> bool:
    value, origin, span = _window(value, n, now)
    return value < origin - span


def _changed(percent: bool):
    def test(pair, operand, now) -> bool:
        current, then = (_number(v) for v in pair)
        if percent:
            if then == 0:
                return False  # a share of nothing: no percentage (see docs/conditions.md)
            left, right = (current - then) * 100, abs(then) * float(_number(operand))
        else:
            left, right = current - then, float(_number(operand))
        return left >= right if operand > 0 else left <= right

    return test


_TESTS = {
    "eq": _eq,
    "gt": _ordered(lambda a, b: a > b),
    "gte": _ordered(lambda a, b: a >= b),
    "lt": _ordered(lambda a, b: a < b),
    "lte": _ordered(lambda a, b: a <= b),
    "between": _between,
    "in": _in,
    "contains": _contains,
    "starts_with": _starts_with,
    "within_last_days": _within_last,
    "within_next_days": _within_next,
    "more_than_days_ago": _more_than_ago,
    "changed_by": _changed(percent=False),
    "changed_by_pct": _changed(percent=True),
}
