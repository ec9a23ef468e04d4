"""What a condition can test: fields, their types, and how each is read.

A :class:`FieldSpec` says three things about one field:

* **what it is** — name (``usage.events_7d``), type, label, options for enums;
* **how the database reads it** — an ORM ``lookup`` (a path such as ``usage__events_7d``,
  or the name of an alias listed in ``aliases``), a ``present`` guard for values that only
  count when it holds (a JSON value of the right type), or for a multi-valued field a
  ``holds`` function giving the filter "holds any of these values". A field with a
  ``present`` guard may also name in ``value_lookup`` an alias that is its value — NULL
  where missing or empty text — wherever ``present`` holds, and anything where it does
  not: a clause then compiles to ``test(value) AND present`` (``value IS NOT NULL`` in
  between for text), whose first term is the only one most rows reach — a JSON value read
  once, its type tested only where the test passed.
  ``lookup`` still serves reading and sorting;
* **how one object is read** — ``get(obj)`` returns the stored value from an object
  loaded with ``prepare(queryset)``; :meth:`Catalog.record` turns it into the value the
  evaluator compares (see ``Storage``).

Two kinds of field read their values elsewhere than on the population's rows:

* **rows** — the value is a column of rows of another table, at most one row per object,
  that ``rows(now)`` selects (the latest value of a custom metric). ``lookup`` is a column
  (or an annotation) of those rows and ``rows_key`` the column naming the object. A clause
  compiles to ``pk IN (SELECT rows_key FROM … WHERE <the clause on lookup>)``: one
  uncorrelated subquery, however big the population, and the records of a batch of objects
  are read with one query. ``rows(now)`` may instead return a tuple of querysets, *parts*
  that hold different objects and read their value differently (a plain column for most,
  a costlier subquery for a few): a clause then holds when it holds on a row of any part,
  and the database plans each part on its own estimates.
* **past** — a number field whose values some days ago are kept takes the change
  operators. ``past(days, now, among)`` returns the SQL (and its parameters) of a relation
  ``(id, now_value, then_value)``: one row per object that has both its value now (as the
  field reads it) and its value at the end of the local day ``days`` before today.
  ``among``, when given, is the SQL and parameters of a subquery of ids to restrict the
  relation to (reading records for a few objects). A record holds the value then under
  :func:`past_key` (``"usage.events_7d@30"``).

A :class:`Catalog` is the fields of one population (the accounts of a workspace), built
by the app that owns the population (``tend.accounts.conditions``).
"""

import datetime
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db import connections
from django.db.models import Q, QuerySet

from tend.lib.conditions.moments import as_now, from_epoch_ms


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    ENUM = "enum"
    MULTI_ENUM = "multi_enum"  # tags, multi-select attributes, modules used


class Storage(StrEnum):
    """How the column holds the value a condition compares.

    ``NATIVE``: as the type says. ``EPOCH_MS``: a datetime stored as epoch milliseconds.
    ``ISO_DATE``: a date stored as ``YYYY-MM-DD`` text (JSON attributes). ``DAYS_SINCE``: a
    number field whose column is a datetime; the value is the whole days (24 h) elapsed
    since it, and comparisons become bounds on the datetime (so an index still serves).
    """

    NATIVE = "native"
    EPOCH_MS = "epoch_ms"
    ISO_DATE = "iso_date"
    DAYS_SINCE = "days_since"


_STORAGE_TYPES = {
    Storage.EPOCH_MS: FieldType.DATETIME,
    Storage.ISO_DATE: FieldType.DATE,
    Storage.DAYS_SINCE: FieldType.NUMBER,
}


@dataclass(frozen=True, eq=False)
class FieldSpec:
    name: str
    type: FieldType
    label: str
    lookup: str = ""
    # Allowed values of an enum or multi_enum; None accepts any text (e.g. product modules).
    options: tuple[str, ...] | None = None
    storage: Storage = Storage.NATIVE
    # The column holds whole numbers (an IntegerField). Django would truncate a fractional
    # operand (``eq 2.5`` becoming ``= 2``), so the compiler rewrites such comparisons.
    integer: bool = False
    present: Q | None = None
    # An alias (in ``aliases``) of the value, right where ``present`` holds; see the docstring.
    value_lookup: str = ""
    aliases: Mapping[str, Any] = field(default_factory=dict)
    holds: Callable[[list[str] | None], Q] | None = None
    get: Callable[[Any], Any] | None = None
    prepare: Callable[[QuerySet], QuerySet] | None = None
    group: str = ""  # e.g. "Account", "Attributes", "Usage": how a builder lists fields
    description: str = ""
    # An enum or multi_enum whose options are ids, whole numbers (segments), rather than text.
    ids: bool = False
    # The operators the field takes when fewer than its type's (``segment``: in, not_in).
    operators: tuple[str, ...] | None = None
    # Values in rows of another table (see the module docstring): rows(now) → QuerySet, or
    # a tuple of QuerySets holding different objects.
    rows: Callable[[datetime.datetime], QuerySet | tuple[QuerySet, ...]] | None = None
    rows_key: str = ""
    # Values some days ago, for change filters: past(days, now, among) → (sql, params).
    past: Callable[[int, datetime.datetime, tuple[str, Any] | None], tuple[str, Any]] | None = None
    # Where the column cache reads the stored value ``get`` returns (see
    # ``tend.lib.conditions.vectors``): (source, column, JSON key or None). None: the field is
    # only evaluated by the database (or one record at a time).
    column: tuple[str, str, str | None] | None = None

    def __post_init__(self):
        object.__setattr__(self, "type", FieldType(self.type))
        object.__setattr__(self, "storage", Storage(self.storage))
        if self.options is not None:
            object.__setattr__(self, "options", tuple(self.options))
        if self.operators is not None:
            object.__setattr__(self, "operators", tuple(self.operators))
        if self.ids and self.type not in (FieldType.ENUM, FieldType.MULTI_ENUM):
            raise ValueError(f"field {self.name!r}: only an enum or multi_enum field holds ids")
        if self.type == FieldType.MULTI_ENUM:
            if self.holds is None:
                raise ValueError(f"field {self.name!r}: a multi_enum field needs holds")
        elif not self.lookup:
            raise ValueError(f"field {self.name!r}: needs a lookup")
        if self.integer and (self.type != FieldType.NUMBER or self.storage != Storage.NATIVE):
            raise ValueError(f"field {self.name!r}: only a native number field can be integer")
        wanted = _STORAGE_TYPES.get(self.storage)
        if wanted is not None and wanted != self.type:
            raise ValueError(f"field {self.name!r}: {self.storage} storage needs type {wanted}")
        single = not self.is_multi and self.storage == Storage.NATIVE
        if self.rows is not None and not (single and self.rows_key):
            raise ValueError(f"field {self.name!r}: rows need a native single value and rows_key")
        if self.value_lookup and (self.value_lookup not in self.aliases or self.present is None):
            raise ValueError(f"field {self.name!r}: value_lookup needs an alias and present")
        if self.value_lookup and self.rows is not None:
            raise ValueError(f"field {self.name!r}: a field read from rows has no value_lookup")
        if self.past is not None and self.type != FieldType.NUMBER:
            raise ValueError(f"field {self.name!r}: only a number field can have past values")
        cached = (Storage.NATIVE, Storage.ISO_DATE)
        if self.column is not None and (self.rows is not None or self.storage not in cached):
            raise ValueError(f"field {self.name!r}: only a stored native or date value is cached")

    @property
    def is_multi(self) -> bool:
        return self.type == FieldType.MULTI_ENUM

    def row_parts(self, now: datetime.datetime) -> tuple[QuerySet, ...]:
        """The querysets of ``rows(now)``: one, or the parts the field returns."""
        found = self.rows(now)
        return found if isinstance(found, tuple) else (found,)

    def read(self, stored, now: datetime.datetime):
        """The value the evaluator compares, from what ``get`` returned; None when missing
        or when the stored value is not of the field's type (the SQL side treats such a
        value as missing too, through ``present``)."""
        value = _convert(self.storage, stored, now)
        if self.ids:
            return _ids(self.type, value)
        return _typed(self.type, value)


def _convert(storage: Storage, stored, now):
    if stored is None:
        return None
    if storage == Storage.EPOCH_MS:
        ok = isinstance(stored, int) and not isinstance(stored, bool)
        return from_epoch_ms(stored) if ok else None
    if storage == Storage.ISO_DATE:
        try:
            return datetime.date.fromisoformat(stored) if isinstance(stored, str) else None
        except ValueError:
            return None
    if storage == Storage.DAYS_SINCE:
        return (now - stored).days if _is_aware(stored) else None
    return stored


def _typed(kind: FieldType, value):
    if value is None:
        return None
    if kind in (FieldType.TEXT, FieldType.ENUM):
        return value if isinstance(value, str) else None
    if kind == FieldType.NUMBER:
        return value if _is_number(value) else None
    if kind == FieldType.BOOLEAN:
        return value if isinstance(value, bool) else None
    if kind == FieldType.DATETIME:
        return value if _is_aware(value) else None
    if kind == FieldType.DATE:
        ok = isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)
        return value if ok else None
    if isinstance(value, list | tuple | set | frozenset):
        return [v for v in value if isinstance(v, str)]
    return None


def _ids(kind: FieldType, value):
    if isinstance(value, list | tuple | set | frozenset):
        return [v for v in value if _is_id(v)] if kind == FieldType.MULTI_ENUM else None
    return value if kind == FieldType.ENUM and _is_id(value) else None


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def _is_aware(value) -> bool:
    return isinstance(value, datetime.datetime) and value.utcoffset() is not None


class Catalog(Mapping[str, FieldSpec]):
    """The fields of one population by name, in the order they were given."""

    def __init__(self, fields: Iterable[FieldSpec]):
        self._fields: dict[str, FieldSpec] = {}
        for spec in fields:
            if spec.name in self._fields:
                raise ValueError(f"two fields are named {spec.name!r}")
            self._fields[spec.name] = spec

    def __getitem__(self, name: str) -> FieldSpec:
        return self._fields[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def groups(self) -> list[tuple[str, list[FieldSpec]]]:
        """Fields by group, groups in order of first appearance (for a builder's menu)."""
        grouped: dict[str, list[FieldSpec]] = {}
        for spec in self._fields.values():
            grouped.setdefault(spec.group, []).append(spec)
        return list(grouped.items())

    def _specs(self, names: Iterable[str] | None) -> list[FieldSpec]:
        if names is None:
            return list(self._fields.values())
        return [self._fields[n] for n in names if n in self._fields]

    def prepare(self, queryset: QuerySet, names: Iterable[str] | None = None) -> QuerySet:
        """``queryset`` with what the getters of ``names`` (default: every field) need loaded;
        each preparation once, however many fields share it."""
        seen = []
        for spec in self._specs(names):
            if spec.prepare is not None and spec.prepare not in seen:
                seen.append(spec.prepare)
                queryset = spec.prepare(queryset)
        return queryset

    def record(self, obj, now: datetime.datetime, names: Iterable[str] | None = None) -> dict:
        """The values of ``names`` (default: every field read from the object itself) for one
        object, as ``evaluate`` takes them. ``obj`` must come from a queryset passed through
        :meth:`prepare`. Fields read from other rows or the past need :meth:`records`."""
        now = as_now(now)
        return {
            spec.name: spec.read(spec.get(obj) if spec.get else None, now)
            for spec in self._specs(names)
            if spec.rows is None
        }

    def records(
        self, queryset: QuerySet, now: datetime.datetime, keys: Iterable[str] | None = None
    ) -> dict:
        """``{pk: record}`` for every object of ``queryset``, holding ``keys``: field names and
        :func:`past_key` keys (default: every field, no past values).

        Queries: one for the objects (plus what ``prepare`` adds), one per rows field (or part
        of one) and one per past key, each restricted to the objects of ``queryset`` by a
        subquery.
        """
        now = as_now(now)
        keys = list(self._fields) if keys is None else list(dict.fromkeys(keys))
        own = [k for k in keys if k in self._fields and self._fields[k].rows is None]
        found = {obj.pk: self.record(obj, now, own) for obj in self.prepare(queryset, own)}
        ids = queryset.order_by().values("pk")
        for key in keys:
            spec = self._fields.get(key)
            if spec is not None and spec.rows is not None:
                column = (spec.rows_key, spec.lookup)
                values = {}
                for part in spec.row_parts(now):
                    values.update(part.filter(**{f"{spec.rows_key}__in": ids}).values_list(*column))
                for pk, record in found.items():
                    record[key] = spec.read(values.get(pk), now)
            past = split_past_key(key)
            if past is not None and past[0] in self._fields and self._fields[past[0]].past:
                values = self._past_values(self._fields[past[0]], past[1], now, ids)
                for pk, record in found.items():
                    record[key] = _typed(FieldType.NUMBER, values.get(pk))
        return found

    @staticmethod
    def _past_values(spec: FieldSpec, days: int, now, ids: QuerySet) -> dict:
        among = ids.query.sql_with_params()
        sql, params = spec.past(days, now, among)
        # The relation's SQL comes from the field's provider; only it is formatted in.
        with connections[ids.db].cursor() as cursor:
            cursor.execute(f"SELECT r.id, r.then_value FROM ({sql}) r", params)  # noqa: S608
            return dict(cursor.fetchall())


def past_key(name: str, days: int) -> str:
    """The record key of a field's value ``days`` ago: ``"usage.events_7d@30"``."""
    return f"{name}@{days}"


def split_past_key(key: str) -> tuple[str, int] | None:
    """``(field name, days)`` of a :func:`past_key`, or None for any other key."""
    name, at, days = key.rpartition("@")
    if not at or not days.isdigit():
        return None
    return name, int(days)
