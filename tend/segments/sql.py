"""Appending membership and change rows in bulk, as plain rows.

Why not ``bulk_create``: a first evaluation of a large segment writes a member row and a
change row per account, and building and preparing that many model instances costs more
than the statements (health's change rows measured the same). SQLite runs one prepared
statement per batch (``executemany``); PostgreSQL gets each batch as one JSON document
unpacked by ``json_to_recordset``, so the statement's text never changes. Only quoted names
and types from the model's ``_meta`` are formatted into the SQL; values are always bound.
"""

from collections.abc import Sequence

import orjson
from django.db import connection
from django.db.models import DateTimeField, Model

BATCH = 5_000


def insert_rows(
    model: type[Model],
    attnames: Sequence[str],
    rows: Sequence[Sequence],
    *,
    skip_existing: Sequence[str] = (),
) -> None:
    """Insert ``rows`` (tuples of the values of ``attnames``). With ``skip_existing`` (the
    columns of a unique constraint), a row that would break it is left out."""
    if not rows:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in attnames]
    columns = ", ".join(quote(f.column) for f in fields)
    table = quote(meta.db_table)
    tail = ""
    if skip_existing:
        keys = ", ".join(quote(meta.get_field(name).column) for name in skip_existing)
        tail = f" ON CONFLICT ({keys}) DO NOTHING"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = [f.column for f in fields]
            types = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
            sql = (
                f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608
                f"FROM json_to_recordset(CAST(%s AS json)) AS r({types}){tail}"
            )
            for start in range(0, len(rows), BATCH):
                records = [
                    dict(zip(names, row, strict=True)) for row in rows[start : start + BATCH]
                ]
                cursor.execute(sql, [orjson.dumps(records).decode()])
            return
        stamps = [i for i, f in enumerate(fields) if isinstance(f, DateTimeField)]
        adapted: dict = {}

        def adapt(value):
            # The same instant repeats on every row of an evaluation: adapt it once.
            if value not in adapted:
                adapted[value] = connection.ops.adapt_datetimefield_value(value)
            return adapted[value]

        marks = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}){tail}"  # noqa: S608
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            if stamps:
                batch = [
                    tuple(adapt(v) if i in stamps else v for i, v in enumerate(row))
                    for row in batch
                ]
            cursor.executemany(sql, batch)
