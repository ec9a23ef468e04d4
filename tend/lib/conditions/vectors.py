"""A condition evaluated over columns of a whole population at once (NumPy arrays).

The column cache (``tend.accounts.columns``) holds, for each field whose ``FieldSpec`` names
a ``column``, the value ``spec.read`` gives for every object, in one of two forms:

* :class:`Numbers` — a number field: ``float64``, NaN where missing. Whole numbers beyond
  2**53 are not exact as floats, so a column holding one is not built (the condition goes
  to the database) and neither is a clause naming one.
* :class:`Coded` — every other type: a code per object into the list of distinct values
  (``values[0]`` is None, missing). A clause is decided once per distinct value by the pure
  evaluator's own ``test_leaf`` — the same code, so the same answer, including dates
  relative to ``now`` and multi-valued fields — and the answers are looked up by code.

:func:`match` returns the boolean array of the objects a condition holds for, or None when
a clause is not evaluated here (a field without a column, a change filter, a text column
with too many distinct values): the caller then asks the database, which stays the reference.
"""

import math
from collections.abc import Mapping

import numpy as np

from tend.lib.conditions.evaluating import test_leaf
from tend.lib.conditions.fields import FieldSpec, FieldType
from tend.lib.conditions.operators import OPERATORS
from tend.lib.conditions.tree import Group, InvalidCondition, Leaf, Not, parse

EXACT = 2**53
# A coded column with more distinct values than this is tested per value too slowly to beat
# the database (names, free text); its clauses go to the database.
MAX_DISTINCT = 50_000


def _plain_number(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, int):
        return abs(value) <= EXACT
    return math.isfinite(value)


class Numbers:
    """A number field's values, NaN where missing."""

    def __init__(self, values: np.ndarray):
        self.values = values

    @classmethod
    def empty(cls, size: int) -> "Numbers":
        return cls(np.full(size, np.nan))

    def set(self, position: int, value) -> bool:
        """Store one value (as ``spec.read`` gave it); False when it cannot be held exactly."""
        if value is None:
            self.values[position] = np.nan
            return True
        if not _plain_number(value):
            return False
        self.values[position] = float(value)
        return True

    def grow(self, size: int) -> None:
        self.values = np.concatenate([self.values, np.full(size - len(self.values), np.nan)])

    def take(self, order: np.ndarray) -> None:
        self.values = self.values[order]

    @property
    def nbytes(self) -> int:
        return self.values.nbytes

    def test(self, op: str, operand) -> np.ndarray | None:
        operator = OPERATORS[op]
        if operator.negates:
            positive = self.test(operator.negates, operand)
            return None if positive is None else ~positive
        values = self.values
        if op == "is_set":
            return ~np.isnan(values)
        if op == "between":
            if not isinstance(operand, list | tuple) or len(operand) != 2:
                return None
            low, high = operand
            if not (_plain_number(low) and _plain_number(high)):
                return None
            return (values >= low) & (values <= high)
        if op == "in":
            if not isinstance(operand, list | tuple) or not all(map(_plain_number, operand)):
                return None
            return np.isin(values, np.array(operand, dtype=np.float64))
        if not _plain_number(operand):
            return None
        compare = _COMPARE.get(op)
        return None if compare is None else compare(values, float(operand))


_COMPARE = {
    "eq": np.equal,
    "gt": np.greater,
    "gte": np.greater_equal,
    "lt": np.less,
    "lte": np.less_equal,
}


def _key(value):
    """A dictionary key that keeps values of different types apart (True is not 1)."""
    return (type(value), tuple(value) if isinstance(value, list) else value)


class Coded:
    """Any other field's values, as codes into the distinct values (code 0: missing)."""

    def __init__(self, codes: np.ndarray, values: list):
        self.codes = codes
        self.values = values
        self.index = {_key(v): code for code, v in enumerate(values)}

    @classmethod
    def empty(cls, size: int) -> "Coded":
        return cls(np.zeros(size, dtype=np.int32), [None])

    def code(self, value) -> int:
        if value is None:
            return 0
        key = _key(value)
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = len(self.values)
            self.values.append(tuple(value) if isinstance(value, list) else value)
        return found

    def set(self, position: int, value) -> bool:
        self.codes[position] = self.code(value)
        return True

    def grow(self, size: int) -> None:
        self.codes = np.concatenate([self.codes, np.zeros(size - len(self.codes), np.int32)])

    def take(self, order: np.ndarray) -> None:
        self.codes = self.codes[order]

    @property
    def nbytes(self) -> int:
        return self.codes.nbytes + 100 * len(self.values)

    def test(self, op: str, operand, now) -> np.ndarray | None:
        if len(self.values) > MAX_DISTINCT:
            return None
        table = np.fromiter(
            (test_leaf(op, value, operand, now) for value in self.values),
            dtype=bool,
            count=len(self.values),
        )
        return table[self.codes]


Column = Numbers | Coded


def new_column(spec: FieldSpec, size: int) -> Column:
    return Numbers.empty(size) if spec.type == FieldType.NUMBER else Coded.empty(size)


def build_column(spec: FieldSpec, stored: list) -> Column | None:
    """The column of ``spec`` from the stored values ``get`` would return, one per object;
    None when a value cannot be held exactly (a whole number beyond 2**53)."""
    column = new_column(spec, len(stored))
    for position, raw in enumerate(stored):
        if not column.set(position, spec.read(raw, None)):
            return None
    return column


def match(condition, columns: Mapping[str, Column], size: int, now) -> np.ndarray | None:
    """Which of ``size`` objects ``condition`` (valid) holds for, from ``columns`` (field name
    → column); None when a clause cannot be evaluated here."""
    tree, errors = parse(condition)
    if errors:
        raise InvalidCondition(errors)
    return _node(tree, columns, size, now)


def leaves_supported(condition, columns: Mapping[str, Column]) -> bool:
    """Whether every clause names a field held in ``columns`` with an operator tested here."""
    tree, errors = parse(condition)
    return not errors and _supported(tree, columns)


def _supported(node, columns) -> bool:
    if isinstance(node, Group):
        return all(_supported(child, columns) for child in node.children)
    if isinstance(node, Not):
        return _supported(node.child, columns)
    return node.field in columns and not OPERATORS[node.op].is_change


def _node(node, columns, size, now) -> np.ndarray | None:
    if isinstance(node, Group):
        result = np.full(size, node.kind == "all")
        for child in node.children:
            found = _node(child, columns, size, now)
            if found is None:
                return None
            if node.kind == "all":
                result &= found
            else:
                result |= found
        return result
    if isinstance(node, Not):
        found = _node(node.child, columns, size, now)
        return None if found is None else ~found
    assert isinstance(node, Leaf)
    column = columns.get(node.field)
    if column is None or OPERATORS[node.op].is_change:
        return None
    if isinstance(column, Numbers):
        return column.test(node.op, node.value)
    return column.test(node.op, node.value, now)
