"""Full exports (Data → Exports): any dataset apps register (``tend.lib.datasets``) as a
CSV, XLSX or Parquet download, streamed — the first bytes leave before the second chunk of
rows is read, and a million rows never sit in memory.

CSV and XLSX go through ``tend.lib.exports`` (formula-looking text escaped, XLSX past a
sheet's row limit continued on the next sheet); Parquet through its row-group stream, with
typed columns for warehouses. Date-times are UTC in every format: a warehouse wants one
zone, and the workspace's may change.
"""

from collections.abc import Iterator

from django.http import Http404, StreamingHttpResponse

from tend.accounts.exports import file_name, scoped_stream
from tend.lib import datasets, exports
from tend.lib.errors import InvalidInput
from tend.lib.exports.parquet_stream import parquet_chunks
from tend.workspaces.access import READ, Actor

PARQUET = "parquet"
FORMATS = (exports.CSV, exports.XLSX, PARQUET)
CONTENT_TYPES = {**exports.CONTENT_TYPES, PARQUET: "application/vnd.apache.parquet"}
FORMAT_LABELS = {exports.CSV: "CSV", exports.XLSX: "Excel (XLSX)", PARQUET: "Parquet"}


def get_dataset(key: str) -> datasets.Dataset:
    dataset = datasets.get(key)
    if dataset is None:
        raise Http404("No such dataset.")
    return dataset


def parse_format(value: str | None) -> str:
    if value not in FORMATS:
        shown = f"'{value}'" if value else "nothing"
        raise InvalidInput("format", f"expected csv, xlsx or parquet, got {shown}")
    return value


class RowCount:
    """Counts the rows a stream of chunks has read (a scheduled export's run reports it)."""

    def __init__(self):
        self.rows = 0

    def wrap(self, rows):
        for row in rows:
            self.rows += 1
            yield row


def dataset_chunks(
    workspace, dataset: datasets.Dataset, format: str, count: RowCount | None = None
) -> Iterator[bytes]:
    columns = dataset.columns(workspace)
    rows = dataset.rows(workspace, columns)
    if count is not None:
        rows = count.wrap(rows)
    if format == PARQUET:
        return parquet_chunks([(c.key, c.type) for c in columns], rows)
    return exports.chunks(format, [c.key for c in columns], rows, sheet_title=dataset.label)


def export_dataset(actor: Actor, key: str, format: str) -> StreamingHttpResponse:
    """The download of dataset ``key`` in ``format`` for ``actor``'s workspace (read
    right). Unknown dataset: 404; bad format: ``InvalidInput`` naming ``format``."""
    actor.require(READ)
    dataset = get_dataset(key)
    format = parse_format(format)
    workspace = actor.workspace
    response = StreamingHttpResponse(
        scoped_stream(workspace.pk, dataset_chunks(workspace, dataset, format)),
        content_type=CONTENT_TYPES[format],
    )
    name = file_name(dataset.key.replace("_", "-"), format)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Accel-Buffering"] = "no"  # proxies that buffer would hold the stream back
    response["Cache-Control"] = "no-store"
    return response
