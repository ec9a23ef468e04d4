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
    CHANGE = "change"  # a number other than 0: the least rise (above 0) or fall (below 0)


MAX_DAYS = 36_500
# The spans a change filter compares over, in days (as Totango's change filters do).
CHANGE_DAYS = (1, 3, 7, 14, 30, 90)


@dataclass(frozen=True)
class Operator:
    name: str
    label: str  # how a builder shows it: "is", "more than"
    shape: Shape
    types: frozenset[FieldType]
    negates: str | None = None
    # Leaf keys besides field/op/value that the operator reads (change operators: "days").
    extras: tuple[str, ...] = ()

    @property
    def is_change(self) -> bool:
        """Compares the value now with the value some days ago: only fields whose past
        values are kept (``FieldSpec.past``) take it."""
        return self.shape == Shape.CHANGE


_ALL = frozenset(FieldType)
_EQUATABLE = frozenset({T.TEXT, T.NUMBER, T.DATE, T.DATETIME, T.BOOLEAN, T.ENUM})
_ORDERED = frozenset({T.NUMBER, T.DATE, T.DATETIME})
_LISTED = frozenset({T.TEXT, T.NUMBER, T.ENUM, T.MULTI_ENUM})
_CONTAINING = frozenset({T.TEXT, T.MULTI_ENUM})
_DATES = frozenset({T.DATE, T.DATETIME})
_NUMBERS = frozenset({T.NUMBER})

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
        Operator("changed_by", "changed by", Shape.CHANGE, _NUMBERS, extras=("days",)),
        Operator("changed_by_pct", "changed by %", Shape.CHANGE, _NUMBERS, extras=("days",)),
    ]
}


def operators_for(field) -> list[Operator]:
    """The operators a field takes, in the table's order (for a builder).

    ``field`` is a ``FieldSpec`` or a bare ``FieldType``. Change operators apply only to a
    field whose past values are kept, so a bare type never lists them.
    """
    if isinstance(field, FieldType):
        kind, has_past = field, False
    else:
        kind, has_past = field.type, field.past is not None
    return [op for op in OPERATORS.values() if kind in op.types and (has_past or not op.is_change)]


def field_operators(spec) -> list[Operator]:
    """The operators one field takes: its type's, narrowed to ``spec.operators`` when the
    field names them (a builder lists these; validation refuses the others)."""
    allowed = operators_for(spec)
    if spec.operators is None:
        return allowed
    return [op for op in allowed if op.name in spec.operators]
