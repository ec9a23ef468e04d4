"""In Chromium: add an SFTP source through the form, test its connection, poll it, follow a
file to its import's report."""

import os
import time

import pytest

from tend.hub.sftp.models import SftpSource
from tend.hub.sftp.tests.server import PASSWORD, USER
from tend.jobs.runner import Worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("TEND_SHOTS_DIR", "")


def shot(page, tmp_path, name):
    page.screenshot(path=os.path.join(SHOTS or str(tmp_path), f"sftp-{name}.png"), full_page=True)


def test_add_a_source_test_it_poll_it_and_open_the_import(
    login, owner, accounts_mapping, sftp_server, tmp_path
):
    sftp_server.write(
        "outgoing/accounts.csv",
        b"external_id,name\r\na-1,Acme\r\na-2,Globex\r\n",
        mtime=int(time.time()) - 60,
    )
    sftp_server.write("outgoing/accounts.csv.done", b"")
    sftp_server.write("outgoing/still-writing.csv", b"external_id,name\r\na-3,Ini")
    sftp_server.write("outgoing/readme.txt", b"drops land here")
    page = login(owner)
    page.goto("/data/imports/")
    page.click("a.tab:has-text('SFTP sources')")
    page.wait_for_selector("text=No SFTP source yet")
    page.click("text=New SFTP source")
    page.fill("#id_name", "Nightly CRM drop")
    page.fill("#id_source_name", "CRM")
    page.fill("#id_host", "127.0.0.1")
    page.fill("#id_port", str(sftp_server.port))
    page.fill("#id_username", USER)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_folder", "/outgoing")
    page.select_option("#id_mapping", "CRM accounts")
    page.fill("#id_every_minutes", "2")
    shot(page, tmp_path, "1-form")
    page.click("button:has-text('Add SFTP source')")
    page.wait_for_selector("text=every_minutes: must be between 5 and 10080")
    assert page.input_value("#id_password") == ""  # never sent back, even after an error
    page.fill("#id_password", PASSWORD)
    page.fill("#id_every_minutes", "15")
    page.click("button:has-text('Add SFTP source')")
    page.wait_for_selector("h1:has-text('Nightly CRM drop')")
    page.click("button:has-text('Test connection')")
    page.wait_for_selector(
        "text=3 files, 2 matching"
    )  # readme.txt does not match; the marker is no file
    assert page.is_visible(f"#host-key:has-text('{sftp_server.fingerprint}')")
    page.click("button:has-text('Poll now')")
    page.wait_for_selector("text=Poll queued")
    Worker(poll_seconds=0.05, burst=True).run()  # the poll, then the import it queued
    page.reload()
    page.wait_for_selector("#files >> text=Imported")
    assert page.is_visible("#files >> text=Waiting until complete")
    shot(page, tmp_path, "2-source")
    page.click("#files a:has-text('#')")
    page.wait_for_selector("text=accounts.csv")
    shot(page, tmp_path, "3-import")
    page.goto("/data/imports/sftp/")
    shot(page, tmp_path, "4-list")
    # A failing source says so on its page.
    SftpSource.objects.update(password_sealed=SftpSource(password="wrong").password_sealed)
    source = SftpSource.objects.get()
    with pytest.raises(Exception, match="authentication failed"):
        from tend.hub.sftp.polling import poll_source

        poll_source(source.pk)
    page.goto(f"/data/imports/sftp/{source.pk}/")
    page.wait_for_selector("#poll-error:has-text('authentication failed')")
    shot(page, tmp_path, "5-failed")
    page.click(f"a[href='/data/imports/sftp/{source.pk}/edit/']")
    page.wait_for_selector("#sftp-form")
    shot(page, tmp_path, "6-edit")
