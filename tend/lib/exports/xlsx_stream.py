"""XLSX as a stream of byte chunks, written by openpyxl in write-only mode.

An XLSX file is a zip of XML parts. openpyxl's write-only mode writes a worksheet's XML to
a temporary file row by row, but only assembles the zip when the workbook is saved, so the
first byte would leave after the last row was written (about 25 s for 100,000 rows here).
This module streams it instead:

1. a zip is opened on a sink that cannot seek (``zipfile`` then writes each entry's sizes
   after its data), and the worksheet's entry is opened first: its header leaves at once;
2. rows are appended to the write-only sheet; every ``FLUSH_ROWS`` rows, the bytes openpyxl
   has written to its temporary file since the last time are compressed into the entry and
   what the zip produced is yielded;
3. a sheet that reaches Excel's 1,048,576 rows is closed and the rows go on in a new sheet
   with the same header ("Export (2)" …);
4. at the end openpyxl writes every other part (workbook, styles, content types) through
   its own ``ExcelWriter``, told that the worksheets are already in the zip, and the zip's
   directory closes the file.

Memory stays flat: openpyxl writes strings inline (no shared-strings table) and the
temporary file is read as it grows and deleted at the end.
"""

import datetime
import io
import os
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from tend.lib.exports.cells import as_text, is_non_finite, needs_escape

XLSX_MAX_ROWS = 1_048_576  # rows per sheet, the header included
MAX_CELL_CHARS = 32_767
FLUSH_ROWS = 1_000
SHEET_TITLE_CHARS = 31
_TITLE_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


class _Sink(io.RawIOBase):
    """Where the zip is written: collects bytes until taken; cannot seek."""

    def __init__(self):
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class _Archive:
    """The zip as openpyxl's ``ExcelWriter`` sees it: the worksheets it would copy from their
    temporary files are already in the zip, so those copies are skipped."""

    def __init__(self, zip_file: zipfile.ZipFile, streamed: set[str]):
        self._zip = zip_file
        self._streamed = streamed

    def writestr(self, *args, **kwargs):
        self._zip.writestr(*args, **kwargs)

    def write(self, filename, arcname=None, *args, **kwargs):
        if arcname not in self._streamed:
            self._zip.write(filename, arcname, *args, **kwargs)

    def namelist(self) -> list[str]:
        return self._zip.namelist()


def valid_sheet_title(title: str, number: int = 1) -> str:
    """A valid sheet name: no ``[]:*?/\\``, at most 31 characters, numbered after the first."""
    base = title.translate(_TITLE_FORBIDDEN).strip() or "Export"
    suffix = f" ({number})" if number > 1 else ""
    return base[: SHEET_TITLE_CHARS - len(suffix)] + suffix


def _text_cell(ws, text: str):
    text = ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL_CHARS]
    if not needs_escape(text):
        return text
    cell = WriteOnlyCell(ws, text)
    # openpyxl takes text starting with "=" for a formula: say it is text, and mark it with
    # Excel's quote prefix so that editing the cell keeps it text.
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def _cell(ws, value):
    """What to hand openpyxl for one value (see the package docstring for the table)."""
    if value is None or is_non_finite(value):
        return None
    if isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, datetime.datetime):
        # Excel has no time zones: the wall-clock time the caller chose is what is shown.
        return value.replace(tzinfo=None)
    if isinstance(value, datetime.date):
        return value
    return _text_cell(ws, as_text(value))


class _Sheet:
    """One write-only worksheet and the read end of its temporary file."""

    def __init__(self, workbook: Workbook, title: str, header: Sequence[str]):
        self.ws = workbook.create_sheet(title)
        # The part's name comes from the sheet's number, which openpyxl otherwise sets only
        # when saving (to the same value: sheets are numbered in the order they were made).
        self.ws._id = len(workbook.worksheets)
        self.rows = 0
        self._source = None
        bold = Font(bold=True)
        # Column widths and the frozen header go into the sheet's head, written on the
        # first append, so they are set before it.
        for index, name in enumerate(header, start=1):
            width = min(max(len(str(name)) + 2, 10), 50)
            self.ws.column_dimensions[get_column_letter(index)].width = width
        self.ws.freeze_panes = "A2"
        cells = []
        for name in header:
            cell = _text_cell(self.ws, str(name))
            if isinstance(cell, str):
                cell = WriteOnlyCell(self.ws, cell)
            cell.font = bold
            cells.append(cell)
        self.append(cells)

    @property
    def arcname(self) -> str:
        return self.ws.path[1:]

    def append(self, cells) -> None:
        self.ws.append(cells)
        self.rows += 1
        if self._source is None:
            # The write-only sheet opens its temporary file on the first append.
            self._source = open(self.ws._writer.out, "rb")  # noqa: SIM115 (closed in close())

    def written(self) -> bytes:
        """What openpyxl wrote to the temporary file since the last call."""
        return self._source.read()

    def close(self) -> bytes:
        """Finish the sheet's XML; the rest of it."""
        self.ws.close()
        rest = self._source.read()
        self._source.close()
        return rest

    def discard(self) -> None:
        """An export abandoned midway (the client went away): finish the sheet's temporary
        file so that nothing is left writing to it, and delete it."""
        if self._source is not None:
            self._source.close()
        if not self.ws.closed:
            self.ws.close()
        path = self.ws._writer.out if self.ws._writer is not None else None
        if path and os.path.exists(path):
            os.remove(path)


def xlsx_chunks(
    header: Sequence[str], rows: Iterable[Sequence], *, sheet_title: str = "Export"
) -> Iterator[bytes]:
    """The XLSX file as byte chunks: the zip's first header leaves before any row is read."""
    workbook = Workbook(write_only=True)
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED)
    sheets: list[_Sheet] = []
    finished = False

    def new_sheet():
        sheet = _Sheet(workbook, valid_sheet_title(sheet_title, len(sheets) + 1), header)
        sheets.append(sheet)
        return sheet, archive.open(sheet.arcname, "w")

    try:
        sheet, entry = new_sheet()
        yield sink.take()
        for row in rows:
            if sheet.rows == XLSX_MAX_ROWS:
                entry.write(sheet.close())
                entry.close()
                sheet, entry = new_sheet()
            sheet.append([_cell(sheet.ws, value) for value in row])
            if sheet.rows % FLUSH_ROWS == 0:
                entry.write(sheet.written())
                data = sink.take()
                if data:
                    yield data
        entry.write(sheet.close())
        entry.close()
        ExcelWriter(workbook, _Archive(archive, {s.arcname for s in sheets})).write_data()
        archive.close()
        finished = True
        yield sink.take()
    finally:
        if not finished:
            for sheet in sheets:
                sheet.discard()
