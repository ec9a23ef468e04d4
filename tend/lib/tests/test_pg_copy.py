"""COPY text for PostgreSQL: every value comes back as it went in, whatever its characters."""

import datetime

import orjson
import pytest
from django.db import connection, models

from tend.lib.pg_copy import copy_into, copy_text

FIELDS = [
    models.BigIntegerField(),
    models.FloatField(null=True),
    models.CharField(max_length=200, null=True),
    models.JSONField(null=True),
    models.DateTimeField(),
]
AWKWARD = "tab\there, new\nline, return\r, back\\slash, unit\x1fseparator, \\N, élan"
STAMP = datetime.datetime(2026, 11, 29, 23, 0, 0, 123456, tzinfo=datetime.UTC)
ROWS = [
    (1, 0.1, "plain", {"rules": 60.0}, STAMP),
    (2**62, None, None, None, STAMP),
    (3, 1e-300, AWKWARD, {"text": AWKWARD, "list": [1, "a\tb"]}, STAMP),
    (4, -2.5, "", [], STAMP + datetime.timedelta(days=1)),
]


def test_rows_are_written_column_by_column_with_escapes_and_nulls():
    text = "".join(copy_text(list(zip(*ROWS, strict=True)), FIELDS))
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == len(ROWS) + 1
    assert lines[0] == '1\t0.1\tplain\t{"rules":60.0}\t2026-11-29T23:00:00.123456+00:00'
    assert lines[1].split("\t")[1:4] == [r"\N", r"\N", r"\N"]
    assert "\x1f" in lines[2] and "\\t" in lines[2] and "\\\\N" in lines[2]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_every_value_comes_back_from_postgresql_as_it_went_in():
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE copied "
            "(n bigint, x double precision, s varchar(200), j jsonb, t timestamptz)"
        )
        copy_into(cursor, "copied", FIELDS, list(zip(*ROWS, strict=True)), names="nxsjt")
        cursor.execute("SELECT n, x, s, j, t FROM copied ORDER BY n")
        found = [(*row[:3], row[3] and orjson.loads(row[3]), row[4]) for row in cursor.fetchall()]
    assert found == sorted(ROWS, key=lambda row: row[0])
