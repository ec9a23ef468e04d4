"""Reading an uploaded file as rows of text, streamed: never the whole file in memory.

CSV: the encoding is detected once, on upload, over the whole file (a byte-order mark says
UTF-8 or UTF-16; UTF-16 without one shows by its NUL bytes; otherwise the file must decode
as UTF-8 from end to end, or it is read as Windows-1252, or Latin-1, which decodes any
byte); the delimiter (comma, semicolon or tab) is the
one the header line uses most outside quotes. XLSX: openpyxl in read-only mode, the first
sheet or a chosen one; cells are turned into the text a person would type (formulas stay
their text: nothing is evaluated).

Rows are numbered as a spreadsheet numbers them: the header is row 1.
"""

import codecs
import csv
import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tend.hub.models import FileFormat
from tend.lib.errors import InvalidInput

BLOCK = 1 << 20
DELIMITERS = (",", ";", "\t")
# A CSV cell may be large (a long note), but not a whole file on one row.
csv.field_size_limit(16 * 1024 * 1024)


@dataclass
class FileInfo:
    format: str
    encoding: str = ""
    delimiter: str = ""
    sheets: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)


def detect(path: Path, file_name: str, sheet: str = "") -> FileInfo:
    """Look at a stored upload: its format, encoding, delimiter or sheets, and header row.
    Raises :class:`InvalidInput` (field ``file``) for anything that cannot be imported."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"PK\x03\x04") or file_name.lower().endswith((".xlsx", ".xlsm")):
        info = FileInfo(format=FileFormat.XLSX)
        info.sheets = _sheet_names(path)
        if sheet and sheet not in info.sheets:
            raise InvalidInput("sheet", f"no sheet named {sheet!r}; the file has {', '.join(info.sheets)}")
    else:
        info = FileInfo(format=FileFormat.CSV, encoding=_encoding(path))
        info.delimiter = _delimiter(path, info.encoding)
    first = next(iter_rows(path, info, sheet), None)
    if first is None:
        raise InvalidInput("file", "is empty: expected a header row naming the columns")
    headers = [h.strip() for h in first[1]]
    while headers and headers[-1] == "":
        headers.pop()
    if not headers:
        raise InvalidInput("file", "has an empty header row: expected the names of the columns")
    seen = set()
    for position, name in enumerate(headers, start=1):
        if not name:
            raise InvalidInput("file", f"column {position} of the header row has no name")
        if name in seen:
            raise InvalidInput("file", f"two columns are named {name!r} in the header row")
        seen.add(name)
    info.headers = headers
    return info


def _encoding(path: Path) -> str:
    with open(path, "rb") as f:
        start = f.read(4)
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = _bomless_utf16(path)
    if utf16 and _decodes(path, utf16):
        return utf16
    for encoding in ("utf-8", "cp1252"):
        if _decodes(path, encoding):
            return encoding
    return "latin-1"


def _bomless_utf16(path: Path) -> str | None:
    """UTF-16 without a byte-order mark: text in it has a NUL in every other byte (ASCII
    characters), odd bytes for little-endian, even ones for big-endian."""
    with open(path, "rb") as f:
        sample = f.read(4096)
    sample = sample[: len(sample) - len(sample) % 2]
    if len(sample) < 4:
        return None
    half = len(sample) // 2
    if sample[1::2].count(0) > 0.7 * half and sample[0::2].count(0) < 0.1 * half:
        return "utf-16-le"
    if sample[0::2].count(0) > 0.7 * half and sample[1::2].count(0) < 0.1 * half:
        return "utf-16-be"
    return None


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as f:
            while block := f.read(BLOCK):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _delimiter(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, newline="") as f:
        line = f.readline(64 * 1024)
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties go to the comma, listed first
    return best if counts[best] else ","


def _sheet_names(path: Path) -> list[str]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException …
        raise InvalidInput("file", f"is not a readable XLSX workbook ({type(exc).__name__})") from exc
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def iter_rows(path: Path, info, sheet: str = "") -> Iterator[tuple[int, list[str]]]:
    """(row number, cells as text) for every non-blank row, the header included."""
    if info.format == FileFormat.XLSX:
        yield from _xlsx_rows(path, sheet)
        return
    with open(path, encoding=info.encoding, newline="") as f:
        reader = csv.reader(f, delimiter=info.delimiter, strict=False)
        for number, row in enumerate(reader, start=1):
            if row and "".join(row).strip():  # a blank row (whitespace at most) is skipped
                yield number, row


def _xlsx_rows(path: Path, sheet: str) -> Iterator[tuple[int, list[str]]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = ["" if v is None else cell_text(v) for v in values]
            if any(c.strip() for c in cells):
                yield number, cells
    finally:
        book.close()


def cell_text(value) -> str:
    """An XLSX cell as the text someone would type for it: 42 not 42.0, dates as ISO."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)
