"""JSON tests the ORM does not offer on both databases: a value's type, and array membership.

Django's JSON lookups give equality, ordering and key presence on SQLite and PostgreSQL
alike, but not "is this value a number" (SQLite orders any text above any number, and
PostgreSQL's jsonb puts booleans above numbers, so a comparison must first know the type)
nor "does this array hold any of these strings" (``contains`` is not supported on SQLite).
These expressions compile to each database's own JSON functions:

==================  ====================================  =====================================
expression          SQLite (JSON1)                        PostgreSQL (jsonb)
==================  ====================================  =====================================
``JSONTypeIs``      ``JSON_TYPE(col, '$."key"') IN …``    ``jsonb_typeof(col -> 'key') IN …``
``JSONArrayHasAny`` ``EXISTS (… json_each(col, path) …)`` ``(col -> 'key') ?| ARRAY[…]``
==================  ====================================  =====================================

Both are never NULL (a missing key, a NULL column or a row missing from a LEFT JOIN gives
false), so they can be negated with ``~Q(…)`` and stay two-valued. ``key=None`` tests the
column itself rather than a key inside it.

``JSONValue`` is not a test but a value: the key's text or number as a condition compares
it, with one extraction, correct wherever ``JSONTypeIs`` holds for its kinds. A condition
tests it first and the type after, so most rows cost one JSON call. Django's
``KeyTransform`` reads every key on SQLite as ``CASE WHEN JSON_TYPE(…) IN ('true', 'false',
'null') THEN JSON_TYPE(…) ELSE JSON_EXTRACT(…) END``, and a condition repeated that for the
test, the "not empty" test and the type guard — ten JSON calls a row for two attributes.
"""

import re

from django.db import NotSupportedError
from django.db.models import BooleanField, Expression, F, Field, TextField

# The names each database gives a JSON type (SQLite's JSON_TYPE, PostgreSQL's jsonb_typeof).
JSON_NUMBER = ("integer", "real", "number")
JSON_STRING = ("text", "string")
JSON_BOOLEAN = ("true", "false", "boolean")
JSON_ARRAY = ("array",)

# Keys are attribute keys; anything else could break out of the JSON path on SQLite.
_SAFE_KEY = re.compile(r"^[A-Za-z0-9_]+$")


def _sqlite_path_literal(key: str | None) -> str:
    """A JSON path written into the SQL rather than bound: SQLite's JSON functions run about
    15 % faster with a constant path. Only keys matching ``_SAFE_KEY`` get here."""
    return "'$'" if key is None else f"'$.\"{key}\"'"


class _JSONTest(Expression):
    output_field = BooleanField()
    conditional = True

    def __init__(self, column, key: str | None):
        if key is not None and not _SAFE_KEY.match(key):
            raise ValueError(f"JSON key {key!r} may hold only letters, digits and _")
        super().__init__()
        self.column = F(column) if isinstance(column, str) else column
        self.key = key

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def as_sql(self, compiler, connection):
        raise NotSupportedError(f"{type(self).__name__} supports SQLite and PostgreSQL only")

    def _sqlite_path(self) -> str:
        return "$" if self.key is None else f'$."{self.key}"'

    def _postgres_value(self, compiler):
        """``col -> 'key'`` (or the column itself) as jsonb, with its parameters."""
        sql, params = compiler.compile(self.column)
        if self.key is None:
            return sql, list(params)
        return f"({sql} -> %s)", [*params, self.key]


class JSONTypeIs(_JSONTest):
    """True where the value at ``key`` has one of ``kinds`` (names from the JSON_* tuples)."""

    def __init__(self, column, key: str | None, kinds: tuple[str, ...]):
        super().__init__(column, key)
        # Written into the SQL on SQLite: only the names of the JSON_* tuples above.
        if not all(kind.isalpha() for kind in kinds):
            raise ValueError(f"not JSON type names: {kinds!r}")
        self.kinds = tuple(kinds)

    def as_sqlite(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        kinds = ", ".join(f"'{kind}'" for kind in self.kinds)
        path = _sqlite_path_literal(self.key)
        return f"COALESCE(JSON_TYPE({sql}, {path}) IN ({kinds}), 0)", list(params)

    def as_postgresql(self, compiler, connection):
        value, params = self._postgres_value(compiler)
        marks = ", ".join(["%s"] * len(self.kinds))
        return f"COALESCE(jsonb_typeof({value}) IN ({marks}), false)", [*params, *self.kinds]


class JSONArrayHasAny(_JSONTest):
    """True where the value at ``key`` is an array holding any of ``values`` (strings);
    with ``values=None``, where it is an array holding anything at all."""

    def __init__(self, column, key: str | None, values: list[str] | None):
        super().__init__(column, key)
        self.values = None if values is None else [str(v) for v in values]

    def as_sqlite(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        path = self._sqlite_path()
        is_array = f"JSON_TYPE({sql}, %s) = 'array'"
        if self.values is None:
            return (
                f"COALESCE({is_array} AND JSON_ARRAY_LENGTH({sql}, %s) > 0, 0)",
                [*params, path, *params, path],
            )
        if not self.values:
            return "0", []
        marks = ", ".join(["%s"] * len(self.values))
        # json_each over a scalar yields the scalar itself: the type test keeps "sso" from
        # counting as ["sso"]. Only the compiled column and placeholders are formatted in.
        return (
            f"COALESCE({is_array} AND EXISTS (SELECT 1 FROM json_each({sql}, %s) AS cond_je "  # noqa: S608
            f"WHERE cond_je.value IN ({marks})), 0)",
            [*params, path, *params, path, *self.values],
        )

    def as_postgresql(self, compiler, connection):
        value, params = self._postgres_value(compiler)
        is_array = f"jsonb_typeof({value}) = 'array'"
        if self.values is None:
            # Not jsonb_array_length: PostgreSQL may evaluate it before the type test, and it
            # fails on a scalar.
            return (
                f"COALESCE({is_array} AND {value} <> '[]'::jsonb, false)",
                [*params, *params],
            )
        if not self.values:
            return "false", []
        return (
            f"COALESCE({is_array} AND {value} ?| %s::text[], false)",
            [*params, *params, self.values],
        )


class JSONNumber(Field):
    """The output field of a number :class:`JSONValue`: a comparison's operand is bound as it
    is on SQLite (JSON_EXTRACT gives integers and reals) and as ``jsonb`` on PostgreSQL,
    where the value stays jsonb — numeric comparison, as exact as Django's own JSON lookups,
    and no cast that a value of another type could make fail."""

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is not None and connection.vendor == "postgresql":
            return connection.ops.adapt_json_value(value, None)
        return value


class JSONValue(Expression):
    """The value at ``key`` as a comparison reads it — text (NULL when empty) for
    ``JSON_STRING``, a number for ``JSON_NUMBER`` — *wherever the value has that type*.
    Where it has another type the result is meaningless, so a test on it must be ANDed with
    ``JSONTypeIs(column, key, kinds)``: ``test(value) AND type`` reads the key once for every
    row and tests the type only for the rows that pass the test.

    ======  =========================================  ======================================
    kinds   SQLite                                     PostgreSQL
    ======  =========================================  ======================================
    string  ``NULLIF(JSON_EXTRACT(col, path), '')``    ``NULLIF(col ->> 'key', '')`` (text)
    number  ``JSON_EXTRACT(col, path)``                ``col -> 'key'`` (jsonb)
    ======  =========================================  ======================================
    """

    def __init__(self, column, key: str, kinds: tuple[str, ...]):
        if not _SAFE_KEY.match(key):
            raise ValueError(f"JSON key {key!r} may hold only letters, digits and _")
        if tuple(kinds) == JSON_STRING:
            output = TextField()
        elif tuple(kinds) == JSON_NUMBER:
            output = JSONNumber()
        else:
            raise ValueError(f"JSONValue reads text or numbers, not {kinds!r}")
        super().__init__(output_field=output)
        self.column = F(column) if isinstance(column, str) else column
        self.key = key
        self.is_text = tuple(kinds) == JSON_STRING

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def as_sql(self, compiler, connection):
        raise NotSupportedError("JSONValue supports SQLite and PostgreSQL only")

    def as_sqlite(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        value = f"JSON_EXTRACT({sql}, {_sqlite_path_literal(self.key)})"
        return (f"NULLIF({value}, '')" if self.is_text else value), list(params)

    def as_postgresql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        if self.is_text:
            return f"NULLIF(({sql} ->> %s), '')", [*params, self.key]
        return f"({sql} -> %s)", [*params, self.key]
