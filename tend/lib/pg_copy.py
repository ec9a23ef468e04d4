"""PostgreSQL's ``COPY … FROM STDIN`` for writing many rows at once, and upserts through it.

Why: the other ways in cost more than the writing. Bound parameters are quoted one by one in
Python by Django's psycopg setup (client-side binding); one JSON document per batch
(``json_to_recordset``, as ``tend.accounts.bulk.sql`` does for requests of a few thousand
rows) made the server spend half of a 100,000-row upsert parsing the document. COPY's text
format is the cheapest for the server to read, and here it is built column by column, which
costs Python a third of handing the driver a row at a time.

Rows are plain tuples of attribute values (``attnames``) of a model; only quoted names and
types from the model's ``_meta`` go into statements.
"""

from collections.abc import Iterator, Sequence

import orjson
from django.db import connection
from django.db.models import (
    DateTimeField,
    Field,
    FloatField,
    ForeignKey,
    IntegerField,
    JSONField,
    Model,
)

# Written with str(), which PostgreSQL reads back exactly (a foreign key as its target).
NUMBERS = (IntegerField, FloatField)
# The text format: backslash escapes, a tab between columns, a newline after each row, \N NULL.
ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = r"\N"
SEPARATOR = "\x1f"  # joins a column's texts to escape them in one call
BLOCK = 20_000  # rows per message: the server reads one while the next is built


def copy_text(columns: Sequence[Sequence], fields: Sequence[Field]) -> Iterator[str]:
    """The rows given as ``columns`` (one sequence of values per field) in COPY's text format,
    a block of rows at a time."""
    texts = [_texts(values, field) for values, field in zip(columns, fields, strict=True)]
    rows = list(map("\t".join, zip(*texts, strict=True)))
    for start in range(0, len(rows), BLOCK):
        yield "\n".join(rows[start : start + BLOCK]) + "\n"


def _texts(values: Sequence, field: Field) -> list[str]:
    """One column's values as COPY text."""
    number = field.target_field if isinstance(field, ForeignKey) else field
    if isinstance(number, NUMBERS):
        if not field.null:
            return list(map(str, values))
        return [NULL if v is None else str(v) for v in values]
    if isinstance(field, DateTimeField):  # ISO 8601 needs no escapes
        if values and all(v is values[0] for v in values):  # the usual: one "now" for all
            return [NULL if values[0] is None else values[0].isoformat()] * len(values)
        return [NULL if v is None else v.isoformat() for v in values]
    if isinstance(field, JSONField):
        values = [None if v is None else orjson.dumps(v).decode() for v in values]
    else:
        values = [None if v is None else str(v) for v in values]
    return _escaped(values)


def _escaped(values: list) -> list[str]:
    """Text values (or None) escaped for COPY: the column joined into one string and escaped
    at once, unless a value holds the separator used for that."""
    if not values:
        return []
    texts = ["" if v is None else v for v in values]
    joined = SEPARATOR.join(texts)
    if joined.count(SEPARATOR) == len(texts) - 1:
        texts = joined.translate(ESCAPES).split(SEPARATOR)
    else:
        texts = [text.translate(ESCAPES) for text in texts]
    if None in values:
        return [NULL if v is None else text for v, text in zip(values, texts, strict=True)]
    return texts


def copy_into(
    cursor, table: str, fields: Sequence[Field], columns: Sequence[Sequence], names=None
) -> None:
    """COPY the rows given as ``columns`` into ``table`` (quoted), into the columns of
    ``fields`` or the quoted ``names`` given."""
    quote = connection.ops.quote_name
    names = names or [quote(f.column) for f in fields]
    with cursor.cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
        for text in copy_text(columns, fields):
            copy.write(text)


def insert(model: type[Model], attnames: Sequence[str], rows: Sequence[Sequence]) -> None:
    """Append ``rows`` (values of ``attnames``) to ``model``'s table."""
    if not rows:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in attnames]
    with connection.cursor() as cursor:
        copy_into(
            cursor, connection.ops.quote_name(meta.db_table), fields, list(zip(*rows, strict=True))
        )


def upsert(
    model: type[Model],
    attnames: Sequence[str],
    rows: Sequence[Sequence],
    unique: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert ``rows`` (values of ``attnames``), or update the columns ``update`` of the rows
    that already exist by the ``unique`` columns: the rows are copied into a temporary table,
    then one ``INSERT … SELECT … ON CONFLICT DO UPDATE`` moves them."""
    if not rows:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in attnames]
    columns = ", ".join(quote(f.column) for f in fields)
    types = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
    conflict = ", ".join(quote(meta.get_field(name).column) for name in unique)
    sets = ", ".join(
        f"{quote(c)} = excluded.{quote(c)}"
        for c in (meta.get_field(name).column for name in update)
    )
    table = quote(meta.db_table)
    staged = quote(f"{meta.db_table}_copied")  # another name: a temporary table would hide it
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {staged}")
        cursor.execute(f"CREATE TEMPORARY TABLE {staged} ({types})")
        copy_into(cursor, staged, fields, list(zip(*rows, strict=True)))
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staged} "  # noqa: S608
            f"ON CONFLICT ({conflict}) DO UPDATE SET {sets}"
        )
        cursor.execute(f"DROP TABLE {staged}")
