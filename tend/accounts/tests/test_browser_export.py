"""Exporting the accounts list in real Chromium: the Export menu downloads what the list
shows, filtered as it is at the moment of the click."""

import csv
import io

import pytest
from openpyxl import load_workbook

from tend.accounts.actions.accounts import create_account
from tend.accounts.models import AttributeDefinition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def accounts(owner, workspace):
    AttributeDefinition.objects.create(
        workspace=workspace, key="seats", label="Seats", type="number", position=0
    )
    for external_id, name, status, seats in [
        ("acme", "Acme Corp", "paying", 40),
        ("globex", "Globex", "trial", 5),
        ("initech", "=Initech", "paying", -1),
    ]:
        create_account(
            owner.actor,
            {
                "external_id": external_id,
                "name": name,
                "status": status,
                "attributes": {"seats": seats},
            },
        )


def download(page, label: str) -> bytes:
    page.click("[data-testid=export-menu] summary")
    with page.expect_download() as info:
        page.click(f"[data-testid=export-menu] a:has-text('{label}')")
    path = info.value.path()
    with open(path, "rb") as file:
        return file.read()


def test_export_downloads_the_list_as_filtered_in_csv_and_xlsx(owner, accounts, login):
    page = login(owner)
    page.goto("/accounts/")
    # Filter in place (htmx): the menu's links follow the list's filters.
    page.select_option("select[name=status]", "paying")
    page.wait_for_url("**/accounts/?status=paying")
    page.wait_for_function(
        "document.querySelectorAll('#account-results td.account-name').length === 2"
    )

    data = download(page, "CSV")
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8")[1:], newline="")))
    header = rows[0]
    assert header[:4] == ["Name", "External id", "Tags", "Status"]
    names = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert [(r["Name"], r["Seats"]) for r in names] == [("'=Initech", "-1"), ("Acme Corp", "40")]

    sheet = load_workbook(io.BytesIO(download(page, "Excel workbook"))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    seats = values[0].index("Seats")
    assert [(row[0], row[seats]) for row in values[1:]] == [("=Initech", -1), ("Acme Corp", 40)]
    assert sheet["A2"].data_type == "s"  # the name is text, not a formula
