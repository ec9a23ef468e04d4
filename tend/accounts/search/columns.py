"""Catalog fields as columns of a search page: reading their values and sorting by them.

Everything here is read from a field's :class:`FieldSpec`, so a field an upper app adds
through a provider (``usage.*``, ``health.*``, ``metrics.*``) can be read and sorted with no
change here.

**Reading.** A field with an ORM ``lookup`` is selected in the page's one query (its path,
or the alias expression it names) together with its ``present`` guard; the value is then
turned into what conditions see by ``spec.read`` (epoch ms → datetime, days since …), so a
search shows exactly the value a condition compares. A multi-valued field (tags, modules,
several-of-a-list attributes) has no column; it is read from objects loaded once per page
with the catalog's ``prepare`` and ``get``.

One correction: Django decodes a JSON key read through ``KeyTransform`` on SQLite by
parsing the text, so a text attribute holding ``"123"`` would come back as the number 123.
Text, option and date values are therefore read through ``KeyTextTransform`` (``->>``).

**Sorting.** A sort key is the field's value expression, ``NULL`` where the value is
missing (no row in a LEFT JOIN, no attribute, a value of another type than the field's, an
account without a stage for ``days_in_stage``). Missing values sort **last in both
directions**, written out as ``NULLS LAST`` so SQLite and PostgreSQL agree (their defaults
differ). Columns that cannot be missing (``name``, ``created_at``) sort without the
modifier, so an index on them serves the order. Numbers held in JSON are compared as
floats, yes/no as 0/1, and ``days_in_stage`` sorts on the instant the stage was entered,
direction reversed.
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Coalesce

from tend.lib.conditions import FieldSpec, FieldType, Storage

# What a sort key's values are, for checking a cursor against the sort it is used with.
TEXT, NUMBER, INSTANT, DAY = "text", "number", "instant", "day"
_STRING_STORED = (FieldType.TEXT, FieldType.ENUM, FieldType.DATE)


def _json_key(spec: FieldSpec) -> KeyTransform | None:
    alias = spec.aliases.get(spec.lookup)
    return alias if isinstance(alias, KeyTransform) else None


def _rows(spec: FieldSpec):
    """The ``rows`` reader of a field whose value lives in rows of another table (custom
    metrics), or None."""
    return getattr(spec, "rows", None)


def value_expression(spec: FieldSpec, now):
    """The expression that selects ``spec``'s stored value (before ``spec.read``)."""
    if _rows(spec) is not None:
        # At most one row per object: its value, read by a subquery (the guard inside it);
        # a field read in parts holds each object in one of them.
        values = []
        for part in spec.row_parts(now):
            found = part.filter(**{spec.rows_key: OuterRef("pk")})
            if spec.present is not None:
                found = found.filter(spec.present)
            values.append(Subquery(found.values(spec.lookup)[:1]))
        return values[0] if len(values) == 1 else Coalesce(*values)
    key = _json_key(spec)
    if key is not None and spec.type in _STRING_STORED:
        return KeyTextTransform(key.key_name, key.lhs)
    if key is not None:
        return key
    return spec.aliases.get(spec.lookup) or F(spec.lookup)


def read_expression(model, spec: FieldSpec, now):
    """``value_expression`` for reading a page's values by id: a value across a relation
    (``usage__events_30d``, ``stage__name``) as a correlated subquery rather than a join,
    so each page costs lookups of its own rows — joined, PostgreSQL hashes or merge-joins
    the whole related table for every page."""
    expression = value_expression(spec, now)
    if not isinstance(expression, F) or "__" not in spec.lookup:
        return expression
    head, rest = spec.lookup.split("__", 1)
    try:
        field = model._meta.get_field(head)
    except FieldDoesNotExist:
        return expression
    if field.one_to_one and not field.concrete:  # the other side of a one-to-one: usage, health
        rows = field.related_model._base_manager.filter(**{field.field.name: OuterRef("pk")})
    elif field.many_to_one and field.concrete:  # a foreign key: stage, parent, account
        rows = field.related_model._base_manager.filter(pk=OuterRef(field.attname))
    else:
        return expression
    # Correlated by the outer row's own key, so no workspace scope is needed inside.
    return Subquery(rows.values(rest)[:1])


def is_readable_in_sql(spec: FieldSpec) -> bool:
    return not spec.is_multi and bool(spec.lookup)


def presence(spec: FieldSpec):
    """The ``present`` guard as a selectable boolean, or None when the field has none (or
    applies it inside its subquery)."""
    if spec.present is None or _rows(spec) is not None:
        return None
    return ExpressionWrapper(spec.present, output_field=BooleanField())


def is_sortable(spec: FieldSpec) -> bool:
    return not spec.is_multi and bool(spec.lookup)


def sort_kind(spec: FieldSpec) -> str:
    if spec.storage == Storage.DAYS_SINCE or spec.type == FieldType.DATETIME:
        return NUMBER if spec.storage == Storage.EPOCH_MS else INSTANT
    if spec.type in (FieldType.NUMBER, FieldType.BOOLEAN):
        return NUMBER
    if spec.type == FieldType.DATE and spec.storage == Storage.NATIVE:
        return DAY
    return TEXT


@dataclass(frozen=True)
class SortKey:
    """One key of a search's order: ``expression`` sorted ascending unless ``descending``
    (already reversed for days-since fields), ``nullable`` when a row may lack a value."""

    name: str
    descending: bool
    expression: Any
    nullable: bool
    kind: str

    @property
    def signature(self) -> str:
        return f"{self.name}:{'d' if self.descending else 'a'}"


def column_key(name: str, column: str, descending: bool, kind: str = TEXT) -> SortKey:
    """A key on a column of the population's own table that is never NULL."""
    return SortKey(name, descending, F(column), nullable=False, kind=kind)


def sort_key(model, spec: FieldSpec, descending: bool, now) -> SortKey:
    expression = value_expression(spec, now)
    key = _json_key(spec)
    if spec.type == FieldType.BOOLEAN:
        expression = Case(
            When(Q(**{spec.lookup: True}), then=Value(1)),
            When(Q(**{spec.lookup: False}), then=Value(0)),
            default=Value(None),
            output_field=IntegerField(),
        )
    elif key is not None and spec.type == FieldType.NUMBER:
        expression = Cast(KeyTextTransform(key.key_name, key.lhs), FloatField())
    if spec.present is not None and _rows(spec) is None:
        expression = Case(When(spec.present, then=expression), default=Value(None))
    if spec.storage == Storage.DAYS_SINCE:
        # More days since the instant is an earlier instant.
        descending = not descending
    nullable = not _never_null(model, spec)
    return SortKey(spec.name, descending, expression, nullable, sort_kind(spec))


def _never_null(model, spec: FieldSpec) -> bool:
    """Whether ``spec``'s lookup is a NOT NULL column reached through NOT NULL foreign keys
    (so every row has a value, and no NULLS LAST is needed)."""
    if spec.present is not None or spec.lookup in spec.aliases or spec.type == FieldType.BOOLEAN:
        return False
    if _rows(spec) is not None:
        return False
    current = model
    parts = spec.lookup.split("__")
    for i, part in enumerate(parts):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        if not field.concrete or field.null:
            return False
        if i < len(parts) - 1:
            if not field.is_relation or field.related_model is None:
                return False
            current = field.related_model
    return True
