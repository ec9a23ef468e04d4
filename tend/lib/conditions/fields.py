"""What a condition can test: fields, their types, and how each is read.

A :class:`FieldSpec` says three things about one field:

* **what it is** — name (``usage.events_7d``), type, label, options for enums;
* **how the database reads it** — an ORM ``lookup`` (a path such as ``usage__events_7d``,
  or the name of an alias listed in ``aliases``), a ``present`` guard for values that only
  count when it holds (a JSON value of the right type), or for a multi-valued field a
  ``holds`` function giving the filter "holds any of these values";
* **how one object is read** — ``get(obj)`` returns the stored value from an object
  loaded with ``prepare(queryset)``; :meth:`Catalog.record` turns it into the value the
  evaluator compares (see ``Storage``).

A :class:`Catalog` is the fields of one population (the accounts of a workspace), built
by the app that owns the population (``tend.accounts.conditions``).
"""

import datetime
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

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
    aliases: Mapping[str, Any] = field(default_factory=dict)
    holds: Callable[[list[str] | None], Q] | None = None
    get: Callable[[Any], Any] | None = None
    prepare: Callable[[QuerySet], QuerySet] | None = None
    group: str = ""  # e.g. "Account", "Attributes", "Usage": how a builder lists fields
    description: str = ""

    def __post_init__(self):
        object.__setattr__(self, "type", FieldType(self.type))
        object.__setattr__(self, "storage", Storage(self.storage))
        if self.options is not None:
            object.__setattr__(self, "options", tuple(self.options))
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

    @property
    def is_multi(self) -> bool:
        return self.type == FieldType.MULTI_ENUM

    def read(self, stored, now: datetime.datetime):
        """The value the evaluator compares, from what ``get`` returned; None when missing
        or when the stored value is not of the field's type (the SQL side treats such a
        value as missing too, through ``present``)."""
        value = _convert(self.storage, stored, now)
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
        """The values of ``names`` (default: every field) for one object, as ``evaluate``
        takes them. ``obj`` must come from a queryset passed through :meth:`prepare`."""
        now = as_now(now)
        return {
            spec.name: spec.read(spec.get(obj) if spec.get else None, now)
            for spec in self._specs(names)
        }
