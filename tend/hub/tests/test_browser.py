"""In Chromium: upload a CSV, fix the mapping, read the dry run, run it, download the errors."""

import csv

import pytest

from tend.accounts.models import Account, AttributeDefinition
from tend.hub.models import Import
from tend.hub.tests.conftest import csv_bytes
from tend.jobs.runner import Worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILE = """Customer code,Company,Tier,Seats bought
c-1,Acme,gold,10
c-2,Globex,tin,20
c-3,Initech,silver,=SUM(A1:A2)
c-1,Acme again,gold,10
"""


def run_jobs():
    """What a worker does: claim and run every due job, here, then return."""
    Worker(poll_seconds=0.05, burst=True).run()


def test_upload_map_dry_run_run_and_download_the_rejected_rows(login, owner, tmp_path):
    AttributeDefinition.objects.create(workspace=owner.workspace, key="tier", label="Tier", type="enum", options=["gold", "silver"])
    path = tmp_path / "customers.csv"
    path.write_bytes(csv_bytes(FILE))
    page = login(owner)

    page.goto("/data/imports/")
    page.click("text=New import")
    page.set_input_files("input[name=file]", str(path))
    page.screenshot(path=str(tmp_path / "1-upload.png"), full_page=True)
    page.click("button:has-text('Upload and map columns')")
    page.wait_for_selector("h1:has-text('Map columns')")
    # "Customer code" is not a known header: the key must be chosen by hand.
    assert page.input_value("select[aria-label='Field for Customer code']") == ""
    assert page.is_visible("text=Choose the key")
    page.select_option("select[aria-label='Field for Customer code']", "external_id")
    page.select_option("select[aria-label='Field for Seats bought']", "new.seats_bought")
    page.click("button:has-text('Update preview')")
    page.wait_for_selector("#preview table")
    assert page.locator("#preview tbody tr").count() == 4
    assert page.is_visible("#preview >> text='tin' is not one of the options")
    page.screenshot(path=str(tmp_path / "2-mapping.png"), full_page=True)

    page.fill("input[name=save_as]", "Customer export")
    page.click("button:has-text('Dry run the whole file')")
    page.wait_for_selector("h1:has-text('Dry run')")
    assert page.text_content("#status").strip() == "Queued"
    page.screenshot(path=str(tmp_path / "3-queued.png"), full_page=True)
    run_jobs()
    page.wait_for_selector("#status:has-text('Done with rejected rows')", timeout=15_000)
    assert page.text_content("#count-created").strip() == "1"
    assert page.text_content("#count-rejected").strip() == "3"
    assert page.is_visible("#rejected >> text=duplicate key 'c-1'")
    assert not Account.objects.exists()
    page.screenshot(path=str(tmp_path / "3-dry-run-done.png"), full_page=True)

    page.click("#run-for-real")
    page.wait_for_selector("h1:has-text('Import')")
    run_jobs()
    page.wait_for_selector("#status:has-text('Done with rejected rows')", timeout=15_000)
    assert page.text_content("#count-created").strip() == "1"
    initech = Account.objects.get()
    assert (initech.external_id, initech.attributes) == ("c-3", {"tier": "silver", "seats_bought": "=SUM(A1:A2)"})
    page.screenshot(path=str(tmp_path / "4-report.png"), full_page=True)

    with page.expect_download() as info:
        page.click("#download-rejected")
    with open(info.value.path(), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["row", "reason", "Customer code", "Company", "Tier", "Seats bought"]
    assert [r[0] for r in rows[1:]] == ["2", "3", "5"]
    assert Import.objects.count() == 2
    # The next file of the same shape: the saved mapping fills in the key chosen by hand.
    page.goto("/data/imports/new/")
    page.set_input_files("input[name=file]", str(path))
    page.click("button:has-text('Upload and map columns')")
    page.select_option("#apply-saved select", "Customer export")
    page.click("#apply-saved button")
    page.wait_for_selector("text=Applied the saved mapping")
    assert page.input_value("select[aria-label='Field for Customer code']") == "external_id"
    assert page.input_value("select[aria-label='Field for Seats bought']") == "attributes.seats_bought"
    page.screenshot(path=str(tmp_path / "5-saved-mapping.png"), full_page=True)
    assert Import.objects.filter(status="draft").count() == 1
    page.goto("/data/imports/")
    page.screenshot(path=str(tmp_path / "5-list.png"), full_page=True)
    page.goto("/data/imports/sources/")
    page.screenshot(path=str(tmp_path / "6-sources.png"), full_page=True)
