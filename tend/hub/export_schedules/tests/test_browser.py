"""In Chromium: add a scheduled export through the form, test its connection, run it now
(the worker writes the file on the real SFTP server), read the run in its history."""

import os

import pytest

from tend.hub.export_schedules.models import ExportSchedule
from tend.hub.sftp.tests.server import PASSWORD, USER
from tend.jobs.runner import Worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("TEND_SHOTS_DIR", "")


def shot(page, tmp_path, name):
    page.screenshot(
        path=os.path.join(SHOTS or str(tmp_path), f"sftpexp-{name}.png"), full_page=True
    )


def test_add_a_scheduled_export_test_it_run_it_and_read_the_run(
    login, owner, book, sftp_server, tmp_path
):
    page = login(owner)
    page.goto("/data/exports/")
    page.click("a.tab:has-text('Scheduled exports')")
    page.wait_for_selector("text=No scheduled export yet")
    page.click("text=New scheduled export")
    page.fill("#id_name", "Nightly accounts")
    page.select_option("#id_dataset", "accounts")
    page.select_option("#id_format", "parquet")
    page.fill("#id_host", "127.0.0.1")
    page.fill("#id_port", str(sftp_server.port))
    page.fill("#id_username", USER)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_folder", "/warehouse/tend")
    page.fill("#id_file_name", "{dataset}-{day}.{ext}")
    page.fill("#id_time_of_day", "06:30")
    shot(page, tmp_path, "1-form")
    page.click("button:has-text('Add scheduled export')")
    page.wait_for_selector("text=file_name: {day} is not a placeholder")
    assert page.input_value("#id_password") == ""  # never sent back, even after an error
    page.fill("#id_password", PASSWORD)
    page.fill("#id_file_name", "{dataset}-{date}.{ext}")
    page.click("button:has-text('Add scheduled export')")
    page.wait_for_selector("h1:has-text('Nightly accounts')")
    page.click("button:has-text('Test connection')")
    page.wait_for_selector("text=does not exist yet: the first run makes it")
    assert page.is_visible(f"#host-key:has-text('{sftp_server.fingerprint}')")
    page.click("button:has-text('Run now')")
    page.wait_for_selector("text=Run queued")
    Worker(poll_seconds=0.05, burst=True).run()
    page.reload()
    page.wait_for_selector("#runs >> text=Succeeded")
    [written] = (sftp_server.root / "warehouse/tend").iterdir()
    assert written.suffix == ".parquet" and page.is_visible(f"#runs >> text={written.name}")
    shot(page, tmp_path, "2-schedule")
    page.goto("/data/exports/scheduled/")
    shot(page, tmp_path, "3-list")
    schedule = ExportSchedule.objects.get()
    page.click(f"a[href='/data/exports/scheduled/{schedule.pk}/']")
    page.click(f"a[href='/data/exports/scheduled/{schedule.pk}/edit/']")
    page.wait_for_selector("#export-schedule-form")
    shot(page, tmp_path, "4-edit")
