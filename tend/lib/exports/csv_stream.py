"""CSV as a stream of byte chunks."""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from tend.lib.exports.cells import csv_text

BOM = "\ufeff"
# Rows are gathered into chunks of about this size: small enough that the first bytes
# leave at once, large enough that the server does not send a packet per row.
CHUNK_BYTES = 64 * 1024


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[bytes]:
    """The CSV file: byte-order mark and header first (before any row is read), then rows.

    Header names are escaped like any text: a column label is data too (an attribute's
    label is typed by a person).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([csv_text(name) for name in header])
    yield buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        writer.writerow([csv_text(value) for value in row])
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")
