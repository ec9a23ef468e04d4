"""Files as people have them: every encoding and delimiter, BOMs, ragged rows, XLSX sheets,
and cells that look like formulas stored as the text they are."""

import io

import openpyxl
import pytest

from tend.accounts.models import Account
from tend.hub.models import RejectedRow
from tend.lib.errors import InvalidInput

pytestmark = pytest.mark.django_db

ROWS = [["external_id", "name"], ["e-1", "Zoë Café"], ["e-2", "Ørsted; “quoted”"]]


def as_csv(delimiter: str) -> str:
    def cell(value):
        return f'"{value}"' if delimiter in value else value

    return "".join(delimiter.join(cell(v) for v in row) + "\r\n" for row in ROWS)


ENCODINGS = [
    ("utf-8", b"", "utf-8"),
    ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
    ("utf-16-le", b"\xff\xfe", "utf-16"),
    ("utf-16-be", b"\xfe\xff", "utf-16"),
    ("utf-16-le", b"", "utf-16-le"),
    ("utf-16-be", b"", "utf-16-be"),
    ("cp1252", b"", "cp1252"),
]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
@pytest.mark.parametrize(("codec", "bom", "detected"), ENCODINGS, ids=[e[2] + ("-bom" if e[1] else "") + "-" + e[0] for e in ENCODINGS])
def test_every_encoding_and_delimiter_reads_the_same_accounts(owner, upload, run_now, codec, bom, detected, delimiter):
    text = as_csv(delimiter)
    imp = upload(owner, bom + text.encode(codec))
    assert (imp.encoding, imp.delimiter) == (detected, delimiter)
    assert imp.headers == ["external_id", "name"]
    imp = run_now(owner, imp)
    assert (imp.created, imp.rejected) == (2, 0)
    names = dict(Account.objects.values_list("external_id", "name"))
    assert names["e-1"] == "Zoë Café"
    assert names["e-2"].endswith("; “quoted”")


def test_latin_1_bytes_that_windows_1252_lacks_are_read_as_latin_1(owner, upload, run_now):
    imp = upload(owner, "external_id,name\nl-1,Ab\x81c é\n".encode("latin-1"))
    assert imp.encoding == "latin-1"
    run_now(owner, imp)
    assert Account.objects.get(external_id="l-1").name == "Ab\x81c é"


def test_ragged_rows_are_rejected_with_their_cell_count_and_blank_lines_skipped(owner, upload, run_now):
    text = "external_id,name,plan\r\nr-1,Short\r\n\r\nr-2,Long,gold,extra\r\nr-3,Trailing,,,\r\nr-4,Fine,\r\n"
    imp = run_now(owner, upload(owner, text.encode()))
    assert (imp.created, imp.rejected) == (2, 2)
    reasons = dict(RejectedRow.objects.values_list("row_number", "reason"))
    assert "has 2 cells but the header has 3" in reasons[2]
    assert "has 4 cells" in reasons[4]
    assert set(Account.objects.values_list("external_id", flat=True)) == {"r-3", "r-4"}


def test_quoted_cells_keep_delimiters_and_line_breaks(owner, upload, run_now):
    text = 'external_id,name\r\nq-1,"Smith, Jones\r\n& Co"\r\nq-2,Plain\r\n'
    imp = run_now(owner, upload(owner, text.encode()))
    assert imp.created == 2
    assert Account.objects.get(external_id="q-1").name == "Smith, Jones\r\n& Co"


def test_formula_looking_csv_cells_are_stored_verbatim(owner, upload, run_now):
    text = 'external_id,name\r\nf-1,=1+2\r\nf-2,@SUM(A1)\r\nf-3,-5\r\n'
    run_now(owner, upload(owner, text.encode()))
    assert dict(Account.objects.values_list("external_id", "name")) == {"f-1": "=1+2", "f-2": "@SUM(A1)", "f-3": "-5"}


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_first_sheet_with_numbers_dates_and_a_formula_as_text(owner, upload, run_now):
    import datetime

    content = xlsx({
        "Accounts": [["external_id", "name", "Since"], [1001, "=CONCAT(\"a\",\"b\")", datetime.date(2026, 3, 1)], [1002.0, "Beta", None]],
        "Other": [["external_id", "name"], ["o-1", "Other"]],
    })
    imp = upload(owner, content, name="accounts.xlsx", )
    assert imp.format == "xlsx" and imp.sheets == ["Accounts", "Other"]
    imp = run_now(owner, imp, unknown="create")
    assert (imp.created, imp.rejected) == (2, 0)
    first = Account.objects.get(external_id="1001")
    assert first.name == '=CONCAT("a","b")'
    assert first.attributes == {"since": "2026-03-01"}
    assert Account.objects.get(external_id="1002").name == "Beta"


def test_xlsx_chosen_sheet(owner, upload, run_now):
    content = xlsx({"Accounts": [["x"]], "Other": [["external_id", "name"], ["o-1", "Other"]]})
    imp = run_now(owner, upload(owner, content, name="book.xlsx", sheet="Other"))
    assert imp.created == 1 and Account.objects.get().external_id == "o-1"
    with pytest.raises(InvalidInput) as raised:
        upload(owner, content, name="book.xlsx", sheet="Nope")
    assert raised.value.field == "sheet"


def test_a_broken_xlsx_is_refused_naming_the_file(owner, upload):
    with pytest.raises(InvalidInput) as raised:
        upload(owner, b"PK\x03\x04 not really a zip", name="broken.xlsx")
    assert raised.value.field == "file"
