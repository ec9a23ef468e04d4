"""``INSERT … ON CONFLICT DO UPDATE … RETURNING`` in large statements.

Django's ``bulk_create(update_conflicts=True)`` is correct but caps a SQLite statement at
999 bound variables (``max_query_params``), so a 5,000-row upsert of an 11-column table
becomes ~55 statements, and it cannot hand back the ids of updated rows. SQLite ≥ 3.32
accepts 32,766 variables and PostgreSQL 65,535, so here each statement carries up to
``ROWS_PER_STATEMENT`` rows and ``RETURNING`` gives every row's id in the same round trip.
Values go through each field's ``get_db_prep_save`` (the same adaptation the ORM applies)
and are always bound parameters; only names from the model's ``_meta`` are spliced in.
"""

from collections.abc import Sequence

import orjson
from django.db import connection
from django.db.models import DateTimeField, Field, JSONField, Model

MAX_VARIABLES = 30_000


def upsert_returning_ids(
    model: type[Model], objs: Sequence[Model], unique_fields: Sequence[str], update_fields: Sequence[str]
) -> None:
    """Insert or update ``objs`` by ``unique_fields``; set each object's ``pk``.

    The unique fields must identify an object within ``objs`` (the callers reject duplicate
    keys before writing); ``RETURNING`` rows come back in no guaranteed order, so they are
    matched to objects by those fields.
    """
    if not objs:
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    unique_columns = [meta.get_field(name).column for name in unique_fields]
    updates = ", ".join(
        f"{quote(c)} = excluded.{quote(c)}" for c in (meta.get_field(name).column for name in update_fields)
    )
    returning = ", ".join(quote(c) for c in [meta.pk.column, *unique_columns])
    unique_attnames = [meta.get_field(name).attname for name in unique_fields]
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, MAX_VARIABLES // len(fields))
    by_key = {tuple(getattr(obj, a) for a in unique_attnames): obj for obj in objs}
    prepared: dict[tuple[Field, object], object] = {}
    stores_json_as_text = connection.vendor == "sqlite"

    def prepare(field: Field, value):
        # Timestamps repeat across a batch (the request's "now") and adapting one is the
        # costliest step per value, so each distinct one is adapted once.
        if isinstance(field, DateTimeField):
            key = (field, value)
            if key not in prepared:
                prepared[key] = field.get_db_prep_save(value, connection)
            return prepared[key]
        if stores_json_as_text and isinstance(field, JSONField):
            # SQLite keeps JSON as text; orjson writes the same document several times faster.
            return None if value is None else orjson.dumps(value).decode()
        return field.get_db_prep_save(value, connection)

    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            batch = objs[start : start + per_statement]
            params = []
            for obj in batch:
                params.extend(prepare(f, getattr(obj, f.attname)) for f in fields)
            values = ", ".join([row_sql] * len(batch))
            conflict = ", ".join(quote(c) for c in unique_columns)
            # Only quoted names from the model's _meta are formatted in; values are bound.
            sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {values} "  # noqa: S608
            sql += f"ON CONFLICT ({conflict}) DO UPDATE SET {updates} RETURNING {returning}"
            cursor.execute(sql, params)
            for pk, *key in cursor.fetchall():
                by_key[tuple(key)].pk = pk
