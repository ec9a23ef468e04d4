"""Tabular exports: rows of plain values to CSV or XLSX, streamed a few rows at a time.

Pure: no models, no requests. The caller gives a header and an iterator of rows (lists of
plain values) and gets back an iterator of ``bytes`` to send as it comes, so the first bytes
leave before the last row is read and memory stays flat whatever the number of rows.

Values
------

=================================  ==========================  ===============================
value                              CSV                         XLSX
=================================  ==========================  ===============================
``None``                           empty                       empty cell
``int``, ``float``, ``Decimal``    the number, never escaped   a number cell
``bool``                           ``true`` / ``false``        a boolean cell
``datetime.date``                  ``2025-03-01``              a date cell (``yyyy-mm-dd``)
``datetime.datetime``              ISO 8601, with its offset   a date-time cell, wall-clock
                                   when aware                  time as given (Excel has no
                                                               time zones)
``list`` / ``tuple``               items joined by ``", "``    the same text
text (anything else, as ``str``)   escaped (below)             a text cell, never a formula
=================================  ==========================  ===============================

Non-finite floats (NaN, infinity) are written as empty cells: no spreadsheet holds them.

Formula injection (DESIGN, "CSV/XLSX export")
---------------------------------------------

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and
tab, CR and NUL are ways to hide such a start. Text that starts with any of these is
escaped:

* **CSV**: prefixed with a single quote, as OWASP recommends (``=HYPERLINK(…)`` is
  written ``'=HYPERLINK(…)``), so Excel, LibreOffice and Sheets show it as text;
* **XLSX**: written unchanged as a text cell (never a formula) with the "quote prefix"
  style, Excel's own mark for text that must stay text even when someone edits the cell.

Only values typed as numbers are numbers: a number (``-5``) is written as is, while the
*text* ``"-5"`` (say a text attribute) is text and escaped like any other text. Telling
"harmless numeric-looking text" from a formula would need a parser of each spreadsheet's
formula syntax; one rule without exceptions leaves no gap to slip through, and the exported
value keeps the type its field declares.

XLSX cells cannot hold the control characters XML forbids (NUL and most of 0x01–0x1F);
they are dropped before the escaping check, so ``"\\0=cmd"`` is caught as ``"=cmd"``.
Text longer than Excel's 32,767 characters per cell is cut there.

CSV files are UTF-8 with a byte-order mark: Excel reads a CSV without one in the machine's
legacy code page (mangling every accent), and the mark is what tells it otherwise; Python
(``encoding="utf-8-sig"``), pandas, LibreOffice and Sheets all skip it. Lines end with CRLF
(RFC 4180).
"""

from collections.abc import Iterable, Iterator, Sequence

from tend.lib.exports.cells import TRIGGERS, csv_text, escape_text, is_number, needs_escape
from tend.lib.exports.csv_stream import csv_chunks
from tend.lib.exports.xlsx_stream import XLSX_MAX_ROWS, xlsx_chunks

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def chunks(
    format: str, header: Sequence[str], rows: Iterable[Sequence], *, sheet_title: str = "Export"
) -> Iterator[bytes]:
    """The file in ``format`` (``"csv"`` or ``"xlsx"``) as an iterator of byte chunks."""
    if format == CSV:
        return csv_chunks(header, rows)
    if format == XLSX:
        return xlsx_chunks(header, rows, sheet_title=sheet_title)
    raise ValueError(f"unknown export format {format!r}")


__all__ = [
    "CONTENT_TYPES",
    "CSV",
    "FORMATS",
    "TRIGGERS",
    "XLSX",
    "XLSX_MAX_ROWS",
    "chunks",
    "csv_chunks",
    "csv_text",
    "escape_text",
    "is_number",
    "needs_escape",
    "xlsx_chunks",
]
