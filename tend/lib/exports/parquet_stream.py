"""Parquet as a stream of byte chunks, for data warehouses.

A Parquet file is its row groups one after another and a footer describing them, so it can
be written front to back: each batch of rows becomes a row group, and the bytes written so
far are sent before the next batch is read. Memory holds one batch, whatever the number of
rows.

Columns are typed (``tend.lib.datasets.TYPES``): numbers, text, yes/no, dates and UTC
date-times as Parquet's own types, so a warehouse loads them without casting; JSON values
as their JSON text. Parquet is data, not a spreadsheet: no formula escaping applies.
"""

import datetime
from collections.abc import Iterable, Iterator, Sequence

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

ROWS_PER_GROUP = 50_000
_ARROW_TYPES = {
    "int": pa.int64(),
    "float": pa.float64(),
    "text": pa.string(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us", tz="UTC"),
    "json": pa.string(),
}


class _Sink:
    """A write-only file that hands over what was written since the last ``take``."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.closed = False

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def _cell(value, type_: str):
    if value is None:
        return None
    if type_ == "json":
        return orjson.dumps(value).decode()
    if type_ == "text" and not isinstance(value, str):
        return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    if type_ == "datetime" and isinstance(value, datetime.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)
    if type_ == "float" and isinstance(value, float) and value != value:
        return None  # NaN: no value, as in the other formats
    return value


def parquet_chunks(
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Sequence],
    *,
    rows_per_group: int = ROWS_PER_GROUP,
) -> Iterator[bytes]:
    """The Parquet file of ``rows`` under ``columns`` (``(name, type)`` pairs)."""
    schema = pa.schema([(name, _ARROW_TYPES[type_]) for name, type_ in columns])
    types = [type_ for _, type_ in columns]
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    batch: list[list] = [[] for _ in columns]
    count = 0

    def flush_batch() -> bytes:
        writer.write_table(pa.Table.from_arrays(
            [pa.array(values, type=schema.field(i).type) for i, values in enumerate(batch)],
            schema=schema,
        ))  # fmt: skip
        for values in batch:
            values.clear()
        return sink.take()

    for row in rows:
        for i, value in enumerate(row):
            batch[i].append(_cell(value, types[i]))
        count += 1
        if count == rows_per_group:
            count = 0
            yield flush_batch()
    if count:
        yield flush_batch()
    writer.close()
    yield sink.take()
