"""Raw SQL for the bulk upsert: large ``SELECT … IN`` reads and ``INSERT … ON CONFLICT``.

Why not the ORM here: Django's SQLite backend caps every statement at 999 bound variables
(``features.max_query_params``), so ``bulk_create(update_conflicts=True)`` splits a 5,000-row
upsert of an 11-column table into ~55 statements and cannot hand back the ids of updated
rows; it also updates every column of every row, and SQLite then rewrites the entries of
every index on those columns even when the value is the same. Building model instances and
running each value through ``get_db_prep_save`` cost more than the statements themselves.

So here rows are plain tuples, callers say which columns an update sets, and ``RETURNING``
gives every row's id in the same round trip. On SQLite, statements are sized to the
connection's real limit (``getlimit``: 32,766 variables or more since 3.32). On PostgreSQL
the rows go as one JSON document (see :func:`upsert`). Values are always bound parameters;
only quoted names and types from the model's ``_meta`` are put in the text. Reads apply the
converters the ORM applies (datetimes on SQLite), except that JSON is decoded with orjson.
"""

import datetime
import functools
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence

import orjson
from django.db import connection
from django.db.models import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    Field,
    FloatField,
    ForeignKey,
    IntegerField,
    JSONField,
    Model,
    TextField,
)

from tend.lib import pg_copy

# Far below every limit, and big enough that a 50,000-item request needs only a few
# statements; larger statements gain nothing measurable.
MAX_VARIABLES = 30_000
# A run of digits that may be an integer beyond 64 bits (see _json_loads).
LONG_NUMBER = re.compile(r"[0-9]{19}")
# Fields whose ``get_db_prep_save`` returns an int, float, str, bool or None unchanged: values
# of these go to the driver as they are. ForeignKey counts when it points at an integer key.
# (A float field's is ``float(value)``: callers pass floats, as health's scores.)
PLAIN = (
    AutoField,
    BigAutoField,
    BigIntegerField,
    IntegerField,
    BooleanField,
    CharField,
    TextField,
    FloatField,
)


def variables_per_statement() -> int:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    else:
        limit = connection.features.max_query_params or 65_535
    return min(limit, MAX_VARIABLES)


def _json_default(value):
    return value.isoformat() if isinstance(value, datetime.datetime) else str(value)


def _json_dumps(value) -> str:
    try:
        return orjson.dumps(value, default=_json_default).decode()
    except TypeError:  # integers beyond 64 bits: orjson refuses them, json does not
        return json.dumps(value, default=_json_default)


def _json_loads(value):
    if not isinstance(value, str):
        return value
    # orjson reads an integer beyond 64 bits as a float, silently losing digits, and the
    # value could then be written back; any run of 19 digits goes to json, which keeps them.
    if LONG_NUMBER.search(value):
        return json.loads(value)
    return orjson.loads(value)


def _is_plain(field: Field) -> bool:
    if isinstance(field, ForeignKey):
        return isinstance(field.target_field, PLAIN)
    return isinstance(field, PLAIN)


def _adapter(field: Field) -> Callable | None:
    """A function turning a Python value into the driver's value, or None for "as it is"."""
    if isinstance(field, JSONField):
        return lambda value: None if value is None else _json_dumps(value)
    if isinstance(field, DateTimeField):
        # The request's "now" repeats on every row and adapting it is the costliest step per
        # value, so each distinct timestamp is adapted once.
        cache = {}

        def adapt(value):
            if value not in cache:
                cache[value] = field.get_db_prep_save(value, connection)
            return cache[value]

        return adapt
    if _is_plain(field):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def _pg_adapter(field: Field) -> Callable | None:
    """Like :func:`_adapter`, for values written into a JSON document of rows: JSON stays
    nested, datetimes (always aware here) become ISO 8601 text, which PostgreSQL reads back
    exactly."""
    if isinstance(field, JSONField | DateTimeField) or _is_plain(field):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


@functools.cache
def _select_plan(model: type[Model], attnames: tuple[str, ...], vendor: str) -> tuple:
    """What :func:`select_by_keys` needs to read ``attnames`` of ``model``: the converters per
    position and the quoted names — the same for every call, so worked out once."""
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in attnames]
    converters = []
    for position, field in enumerate(fields):
        if isinstance(field, JSONField):
            converters.append((position, [_json_loads]))
            continue
        col = field.get_col(meta.db_table)
        found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if found:
            converters.append(
                (position, [lambda value, c=c, col=col: c(value, col, connection) for c in found])
            )
    columns = ", ".join(quote(field.column) for field in fields)
    table = quote(meta.db_table)
    workspace_column = quote(meta.get_field("workspace").column)
    key_column = quote(meta.get_field("external_id").column)
    return converters, columns, table, workspace_column, key_column


def select_by_keys(
    model: type[Model], workspace_id: int, keys: Iterable[str], attnames: Sequence[str]
) -> dict[str, tuple]:
    """Rows of ``model`` in the workspace whose ``external_id`` is in ``keys``.

    Returns external id → tuple of ``attnames`` (which must start with ``external_id``),
    converted as the ORM would convert them.
    """
    keys = list(keys)
    if not keys:
        return {}
    converters, columns, table, workspace_column, key_column = _select_plan(
        model, tuple(attnames), connection.vendor
    )
    postgresql = connection.vendor == "postgresql"
    # PostgreSQL: one parameter, so the statement's text never changes (see upsert).
    size = (len(keys) or 1) if postgresql else variables_per_statement() - 1
    rows = {}
    with connection.cursor() as cursor:
        for start in range(0, len(keys), size):
            part = keys[start : start + size]
            if postgresql:
                # The keys as one JSON array: see upsert for why not a driver-quoted array.
                condition = "= ANY(ARRAY(SELECT json_array_elements_text(CAST(%s AS json))))"
                params = [workspace_id, _json_dumps(list(part))]
            else:
                condition = "IN (" + ", ".join(["%s"] * len(part)) + ")"
                params = [workspace_id, *part]
            # Only quoted names from the model's _meta are formatted in; values are bound.
            cursor.execute(
                f"SELECT {columns} FROM {table} "  # noqa: S608
                f"WHERE {workspace_column} = %s AND {key_column} {condition}",
                params,
            )
            fetched = cursor.fetchall()
            if converters:
                for index, row in enumerate(fetched):
                    row = list(row)
                    for position, chain in converters:
                        value = row[position]
                        for convert in chain:
                            value = convert(value)
                        row[position] = value
                    fetched[index] = tuple(row)
            for row in fetched:
                rows[row[0]] = row
    return rows


def upsert(
    model: type[Model],
    attnames: Sequence[str],
    rows: Sequence[Sequence],
    unique: Sequence[str],
    update: Sequence[str],
    assignments: Mapping[str, str] | None = None,
) -> list[tuple]:
    """Insert ``rows`` (values of ``attnames``), or update the columns ``update`` of the rows
    that already exist by the ``unique`` columns. Returns ``(pk, *unique values)`` per row,
    in no particular order.

    ``assignments`` gives some of the ``update`` columns (by attname) an SQL expression of
    the caller's in place of ``excluded.<column>``: it may read the stored row by the table's
    quoted name and the proposed one as ``excluded``, e.g. to keep the larger of the two. It
    must be fixed text: values go in ``rows``.
    """
    if not rows:
        return []
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in attnames]
    conflict = ", ".join(quote(meta.get_field(name).column) for name in unique)
    assignments = assignments or {}
    sets = ", ".join(
        f"{quote(meta.get_field(name).column)} = "
        + assignments.get(name, f"excluded.{quote(meta.get_field(name).column)}")
        for name in update
    )
    returning = ", ".join(
        quote(c) for c in [meta.pk.column, *(meta.get_field(n).column for n in unique)]
    )
    tail = f"ON CONFLICT ({conflict}) DO UPDATE SET {sets} RETURNING {returning}"
    return _insert(model, fields, rows, tail)


def insert(model: type[Model], attnames: Sequence[str], rows: Sequence[Sequence]) -> None:
    """Insert ``rows`` (values of ``attnames``): no conflict handling, nothing returned — the
    same few statements as :func:`upsert` on SQLite; COPY on PostgreSQL (change rows, written
    by the thousand: through ``json_to_recordset`` they were a third of a 5,000-account bulk
    upsert, the server parsing the document)."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        pg_copy.insert(model, attnames, rows)
    else:
        _insert(model, [model._meta.get_field(name) for name in attnames], rows, "")


def _insert(model: type[Model], fields: list, rows: Sequence[Sequence], tail: str) -> list[tuple]:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The rows travel as one JSON document unpacked by json_to_recordset: the
            # statement's text never changes, and the driver's client-side binding (Django's
            # default) neither scans thousands of placeholders nor quotes values one by one in
            # Python (each costs more than the server's work); orjson writes the document.
            names = [f.column for f in fields]
            adapters = [(i, adapt) for i, f in enumerate(fields) if (adapt := _pg_adapter(f))]
            records = []
            for row in rows:
                if adapters:
                    row = list(row)
                    for position, adapt in adapters:
                        row[position] = adapt(row[position])
                records.append(dict(zip(names, row, strict=True)))
            types = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
            # Only quoted names and types from the model's _meta are formatted in.
            sql = (
                f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608
                f"FROM json_to_recordset(CAST(%s AS json)) AS r({types}) {tail}"
            )
            cursor.execute(sql, [_json_dumps(records)])
            return cursor.fetchall() if tail else []
        adapters = [(i, adapt) for i, f in enumerate(fields) if (adapt := _adapter(f))]
        row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
        per_statement = max(1, variables_per_statement() // len(fields))
        returned = []
        for start in range(0, len(rows), per_statement):
            params = []
            for row in rows[start : start + per_statement]:
                if adapters:
                    row = list(row)
                    for position, adapt in adapters:
                        row[position] = adapt(row[position])
                params.extend(row)
            values = ", ".join([row_sql] * (len(params) // len(fields)))
            # Only quoted names from the model's _meta are formatted in; values are bound.
            sql = f"INSERT INTO {table} ({columns}) VALUES {values} {tail}"  # noqa: S608
            cursor.execute(sql, params)
            if tail:
                returned.extend(cursor.fetchall())
        return returned
