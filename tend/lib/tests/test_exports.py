"""CSV and XLSX exports (``tend.lib.exports``): formula injection escaped in both formats,
numbers left alone, typed XLSX cells, and files that stream as they are built."""

import csv
import datetime
import io
import os
import zipfile
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tend.lib import exports
from tend.lib.exports import xlsx_stream

PARIS = ZoneInfo("Europe/Paris")

# text → the CSV cell written. Each character that starts (or hides the start of) a formula.
ESCAPED = [
    ('=HYPERLINK("http://evil.test","x")', '\'=HYPERLINK("http://evil.test","x")'),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("\0=1+1", "'\0=1+1"),
    ("-5", "'-5"),  # text that spells a number is still text
]
LEFT_ALONE = [
    ("Acme Corp", "Acme Corp"),
    ("a=b", "a=b"),  # only the first character matters
    (" =1+1", " =1+1"),
    ("", ""),
]
NUMBERS = [(-5, "-5"), (42, "42"), (-2.5, "-2.5"), (Decimal("-1200.50"), "-1200.50"), (0, "0")]


def csv_rows(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def workbook(data: bytes):
    return load_workbook(io.BytesIO(data))


def build(format, header, rows, **kwargs) -> bytes:
    return b"".join(exports.chunks(format, header, rows, **kwargs))


@pytest.mark.parametrize(("text", "written"), ESCAPED + LEFT_ALONE)
def test_csv_escapes_text_that_could_start_a_formula_and_nothing_else(text, written):
    assert csv_rows(build("csv", ["value"], [[text]]))[1] == [written]


@pytest.mark.parametrize(("number", "written"), NUMBERS)
def test_csv_leaves_numbers_alone_negative_ones_included(number, written):
    assert csv_rows(build("csv", ["value"], [[number]]))[1] == [written]


@pytest.mark.parametrize(("text", "written"), ESCAPED)
def test_xlsx_writes_formula_like_text_as_quoted_text_never_a_formula(text, written):
    cell = workbook(build("xlsx", ["value"], [[text]])).active["A2"]
    assert cell.data_type == "s"
    assert cell.quotePrefix is True
    # XML cannot hold NUL: it is dropped, and what is left is still caught. XML reads a
    # carriage return back as a line feed.
    assert cell.value == text.replace("\0", "").replace("\r", "\n")


@pytest.mark.parametrize(("text", "_written"), LEFT_ALONE[:3])
def test_xlsx_writes_other_text_plainly(text, _written):
    cell = workbook(build("xlsx", ["value"], [[text]])).active["A2"]
    assert (cell.value, cell.data_type, bool(cell.quotePrefix)) == (text, "s", False)


@pytest.mark.parametrize(("number", "_written"), NUMBERS)
def test_xlsx_writes_numbers_as_numbers(number, _written):
    cell = workbook(build("xlsx", ["value"], [[number]])).active["A2"]
    assert cell.data_type == "n"
    assert cell.value == number
    assert not cell.quotePrefix


def test_a_header_that_starts_like_a_formula_is_escaped_too():
    assert csv_rows(build("csv", ["=label", "Plan"], []))[0] == ["'=label", "Plan"]
    header = workbook(build("xlsx", ["=label", "Plan"], [])).active["A1"]
    assert (header.value, header.data_type, header.quotePrefix) == ("=label", "s", True)


def test_an_xml_illegal_character_cannot_hide_a_formula_in_xlsx():
    cell = workbook(build("xlsx", ["v"], [["\x01\x02=cmd"]])).active["A2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == ("=cmd", "s", True)


TYPED_ROW = [
    "Acme",
    7,
    71.5,
    Decimal("2.50"),
    True,
    datetime.date(2025, 3, 1),
    datetime.datetime(2025, 3, 1, 14, 5, 9, tzinfo=PARIS),
    None,
    ["gold", "beta"],
    float("nan"),
]


def test_csv_writes_dates_in_iso_none_as_empty_and_lists_joined():
    assert csv_rows(build("csv", list("abcdefghij"), [TYPED_ROW]))[1] == [
        "Acme",
        "7",
        "71.5",
        "2.50",
        "true",
        "2025-03-01",
        "2025-03-01T14:05:09+01:00",
        "",
        "gold, beta",
        "",
    ]


def test_xlsx_cells_have_the_types_of_their_values():
    ws = workbook(build("xlsx", list("abcdefghij"), [TYPED_ROW])).active
    cells = ws[2]
    assert [c.value for c in cells] == [
        "Acme",
        7,
        71.5,
        2.5,
        True,
        datetime.datetime(2025, 3, 1),
        datetime.datetime(2025, 3, 1, 14, 5, 9),  # the wall-clock time given
        None,
        "gold, beta",
        None,
    ]
    assert [c.data_type for c in cells[:7]] == ["s", "n", "n", "n", "b", "d", "d"]
    assert cells[5].number_format == "yyyy-mm-dd"
    assert cells[6].number_format.startswith("yyyy-mm-dd h")


def test_xlsx_has_a_bold_frozen_header():
    ws = workbook(
        build("xlsx", ["Name", "Plan"], [["Acme", "Gold"]], sheet_title="Accounts")
    ).active
    assert ws.title == "Accounts"
    assert [c.value for c in ws[1]] == ["Name", "Plan"]
    assert ws["A1"].font.b
    assert ws.freeze_panes == "A2"


def test_sheet_titles_drop_characters_excel_refuses_and_fit_31_characters():
    assert xlsx_stream.valid_sheet_title("Q1: [renewals]?") == "Q1   renewals"
    assert xlsx_stream.valid_sheet_title("x" * 40, 2) == "x" * 27 + " (2)"


def test_csv_file_starts_with_a_byte_order_mark_and_ends_lines_with_crlf():
    data = build("csv", ["Name"], [["Zoë"]])
    assert data == "\ufeffName\r\nZoë\r\n".encode()


class CountingRows:
    """Rows made on demand, counting how many the writer has taken so far."""

    def __init__(self, total: int):
        self.total = total
        self.taken = 0

    def __iter__(self):
        for n in range(self.total):
            self.taken += 1
            yield [f"Account {n}", n]


@pytest.mark.parametrize("format", exports.FORMATS)
def test_the_first_bytes_leave_before_any_row_is_read(format):
    rows = CountingRows(5_000)
    stream = exports.chunks(format, ["Name", "N"], rows)
    first = next(stream)
    assert first  # CSV: the header; XLSX: the zip's first entry header
    assert rows.taken == 0
    rest = list(stream)
    assert rows.taken == 5_000
    assert len(rest) > 1  # the rows came in several chunks, not as one block at the end


def test_csv_rows_leave_in_chunks_while_later_rows_are_still_unread():
    rows = CountingRows(50_000)
    stream = exports.chunks("csv", ["Name", "N"], rows)
    next(stream)  # the header
    second = next(stream)
    assert second.startswith(b"Account 0,0\r\n")
    assert 0 < rows.taken < 50_000


def test_xlsx_rows_leave_in_chunks_while_later_rows_are_still_unread():
    rows = CountingRows(50_000)
    stream = exports.chunks("xlsx", ["Name", "N"], rows)
    next(stream)
    next(stream)
    assert 0 < rows.taken < 50_000
    data = b"".join(stream)
    assert rows.taken == 50_000
    assert len(data) > 0


def test_the_streamed_xlsx_is_a_whole_workbook_with_every_row():
    rows = CountingRows(3_500)
    ws = workbook(build("xlsx", ["Name", "N"], rows)).active
    assert ws.max_row == 3_501
    assert [c.value for c in ws[3_501]] == ["Account 3499", 3499]


def test_rows_past_a_sheets_limit_go_on_in_another_sheet_with_the_header(monkeypatch):
    monkeypatch.setattr(xlsx_stream, "XLSX_MAX_ROWS", 3)  # the header and two rows
    data = build("xlsx", ["N"], ([n] for n in range(5)), sheet_title="Accounts")
    wb = workbook(data)
    assert wb.sheetnames == ["Accounts", "Accounts (2)", "Accounts (3)"]
    assert [[c.value for c in row] for row in wb["Accounts (3)"].iter_rows()] == [["N"], [4]]
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert len(names) == len(set(names))


def test_an_abandoned_xlsx_export_leaves_no_temporary_file():
    stream = exports.chunks("xlsx", ["Name", "N"], CountingRows(5_000))
    next(stream)
    next(stream)
    sheet_file = stream.gi_frame.f_locals["sheets"][0].ws._writer.out
    assert os.path.exists(sheet_file)
    stream.close()  # what Django does when the client goes away
    assert not os.path.exists(sheet_file)


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="pdf"):
        exports.chunks("pdf", ["a"], [])
