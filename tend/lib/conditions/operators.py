"""The operators: which field types each applies to and what value it takes.

What an operator *does* lives in two places that must agree: ``compiling.py`` (its SQL, as
a ``Q``) and ``evaluating.py`` (its Python test). Both write only the positive operators;
an operator with ``negates`` is the exact complement of the one it names, on both sides,
which is what makes ``ne``/``not_in``/``not_contains`` true for a missing value.
"""

from dataclasses import dataclass
from enum import StrEnum

from tend.lib.conditions.fields import FieldType

T = FieldType


class Shape(StrEnum):
    """The ``value`` an operator takes."""

    NONE = "none"  # no value (is_set)
    ONE = "one"  # one value of the field's type
    TWO = "two"  # [low, high] of the field's type, low ≤ high
    MANY = "many"  # a non-empty list of values of the field's type
    DAYS = "days"  # a whole number of days, 0…MAX_DAYS


MAX_DAYS = 36_500


@dataclass(frozen=True)
class Operator:
    name: str
    label: str  # how a builder shows it: "is", "more than"
    shape: Shape
    types: frozenset[FieldType]
    negates: str | None = None
    # Leaf keys besides field/op/value that the operator reads (change operators: "days").
    extras: tuple[str, ...] = ()


_ALL = frozenset(FieldType)
_EQUATABLE = frozenset({T.TEXT, T.NUMBER, T.DATE, T.DATETIME, T.BOOLEAN, T.ENUM})
_ORDERED = frozenset({T.NUMBER, T.DATE, T.DATETIME})
_LISTED = frozenset({T.TEXT, T.NUMBER, T.ENUM, T.MULTI_ENUM})
_CONTAINING = frozenset({T.TEXT, T.MULTI_ENUM})
_DATES = frozenset({T.DATE, T.DATETIME})

OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in [
        Operator("eq", "is", Shape.ONE, _EQUATABLE),
        Operator("ne", "is not", Shape.ONE, _EQUATABLE, negates="eq"),
        Operator("gt", "more than", Shape.ONE, _ORDERED),
        Operator("gte", "at least", Shape.ONE, _ORDERED),
        Operator("lt", "less than", Shape.ONE, _ORDERED),
        Operator("lte", "at most", Shape.ONE, _ORDERED),
        Operator("between", "between", Shape.TWO, _ORDERED),
        Operator("in", "is any of", Shape.MANY, _LISTED),
        Operator("not_in", "is none of", Shape.MANY, _LISTED, negates="in"),
        Operator("contains", "contains", Shape.ONE, _CONTAINING),
        Operator("not_contains", "does not contain", Shape.ONE, _CONTAINING, negates="contains"),
        Operator("starts_with", "starts with", Shape.ONE, frozenset({T.TEXT})),
        Operator("is_set", "is set", Shape.NONE, _ALL),
        Operator("is_not_set", "is not set", Shape.NONE, _ALL, negates="is_set"),
        Operator("within_last_days", "in the last … days", Shape.DAYS, _DATES),
        Operator("within_next_days", "in the next … days", Shape.DAYS, _DATES),
        Operator("more_than_days_ago", "more than … days ago", Shape.DAYS, _DATES),
    ]
}


def operators_for(kind: FieldType) -> list[Operator]:
    """The operators a field of type ``kind`` takes, in the table's order (for a builder)."""
    return [op for op in OPERATORS.values() if kind in op.types]
