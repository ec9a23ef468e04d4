"""Parquet written front to back: several row groups arrive as separate chunks before the
footer, every type round-trips, NaN and missing values are nulls, and an empty file is a
valid file with the schema."""

import datetime
import io

import pyarrow.parquet as pq

from tend.lib.exports.parquet_stream import parquet_chunks

COLUMNS = [
    ("id", "int"), ("name", "text"), ("day", "date"), ("at", "datetime"), ("score", "float"),
    ("ok", "bool"), ("extra", "json"), ("tags", "text"),
]  # fmt: skip


def row(n):
    return [
        n,
        f"=name {n}",
        datetime.date(2026, 1, 1) + datetime.timedelta(days=n),
        datetime.datetime(2026, 1, 1, 12, 0),  # naive: taken as UTC
        float("nan") if n == 1 else n / 2,
        n % 2 == 0,
        {"n": n} if n else None,
        ["a", "b"],
    ]


def test_row_groups_are_sent_as_they_are_written_and_read_back_typed():
    chunks = list(parquet_chunks(COLUMNS, (row(n) for n in range(25)), rows_per_group=10))
    assert len(chunks) == 4  # three row groups, then the footer
    assert chunks[0].startswith(b"PAR1")
    data = b"".join(chunks)
    parquet = pq.ParquetFile(io.BytesIO(data))
    assert parquet.metadata.num_row_groups == 3
    rows = parquet.read().to_pylist()
    assert len(rows) == 25
    assert rows[0]["name"] == "=name 0" and rows[0]["extra"] is None
    assert rows[1]["score"] is None and rows[2]["score"] == 1.0
    assert rows[3]["extra"] == '{"n":3}' and rows[3]["tags"] == "a, b"
    assert rows[3]["at"] == datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
    assert rows[24]["day"] == datetime.date(2026, 1, 25) and rows[24]["ok"] is True


def test_no_rows_is_a_valid_file_with_the_schema():
    table = pq.read_table(io.BytesIO(b"".join(parquet_chunks(COLUMNS, []))))
    assert table.num_rows == 0 and table.schema.names == [name for name, _ in COLUMNS]
