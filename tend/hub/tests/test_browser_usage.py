"""In Chromium: pick "Usage (daily totals)", map a warehouse export, read the dry run, run it."""

import os
from pathlib import Path

import pytest

from tend.accounts.models import Account, EndUser
from tend.hub.tests.conftest import csv_bytes
from tend.jobs.runner import Worker
from tend.usage.models import AccountDay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILE = """ds,acct,uid,feature,events
2026-11-20,acme,u-1,login,4
2026-11-20,acme,u-1,export,2
2026-11-21,acme,,login,7
2026-11-21,nobody,,login,1
2026-11-22,acme,u-1,login,lots
"""


def test_pick_usage_map_dry_run_and_run(login, owner, tmp_path):
    acme = Account.objects.create(workspace=owner.workspace, external_id="acme", name="Acme")
    EndUser.objects.create(workspace=owner.workspace, account=acme, external_id="u-1")
    shots = Path(os.environ.get("HUB_SHOTS", tmp_path))
    path = tmp_path / "usage.csv"
    path.write_bytes(csv_bytes(FILE))
    page = login(owner)
    page.goto("/data/imports/new/")
    page.set_input_files("input[name=file]", str(path))
    page.select_option("#id_object", "usage")
    page.screenshot(path=str(shots / "usage-1-upload.png"), full_page=True)
    page.click("button:has-text('Upload and map columns')")
    page.wait_for_selector("h1:has-text('Map columns')")
    # "events" and "feature" are suggested; the other headers are the warehouse's own: map them.
    assert page.input_value("select[aria-label='Field for events']") == "count"
    assert page.input_value("select[aria-label='Field for feature']") == "activity"
    assert page.is_visible("#preview >> text=Map a column to")
    page.select_option("select[aria-label='Field for ds']", "date")
    page.select_option("select[aria-label='Field for acct']", "account_external_id")
    page.select_option("select[aria-label='Field for uid']", "user_external_id")
    page.click("button:has-text('Update preview')")
    page.wait_for_selector("#preview table")
    assert page.locator("#preview tbody tr").count() == 5
    assert page.is_visible("#preview >> text=no account with external id 'nobody'")
    page.screenshot(path=str(shots / "usage-2-mapping.png"), full_page=True)

    page.click("button:has-text('Dry run the whole file')")
    page.wait_for_selector("h1:has-text('Dry run')")
    Worker(poll_seconds=0.05, burst=True).run()
    page.wait_for_selector("#status:has-text('Done with rejected rows')", timeout=15_000)
    assert page.text_content("#count-created").strip() == "3"
    assert page.text_content("#count-rejected").strip() == "2"
    assert not AccountDay.objects.exists()
    page.click("#run-for-real")
    page.wait_for_selector("h1:has-text('Import')")
    Worker(poll_seconds=0.05, burst=True).run()
    page.wait_for_selector("#status:has-text('Done with rejected rows')", timeout=15_000)
    assert sorted(AccountDay.objects.values_list("events", flat=True)) == [6, 7]
    page.screenshot(path=str(shots / "usage-3-report.png"), full_page=True)
