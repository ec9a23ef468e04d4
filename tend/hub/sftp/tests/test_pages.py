"""The SFTP source pages: list, form (secrets write-only), a source's page with its files and
imports, Test connection and Poll now against a real server; a viewer reads but cannot
write, an outsider gets 404, bad input answers 400 naming the field."""

import time

import pytest
from django.test import Client

from tend.hub.sftp.models import PollStatus, RemoteFile, SftpSource
from tend.hub.sftp.polling import poll_source
from tend.hub.sftp.tests.conftest import source_data
from tend.hub.sftp.tests.server import PASSWORD
from tend.jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=True)
BASE = "/data/imports/sftp/"


def form(server, **overrides):
    data = source_data(server, **overrides)
    data["enabled"] = "on" if data.pop("enabled") else ""
    return data


def test_an_admin_adds_a_source_from_the_form_and_its_page_shows_it(
    owner, sftp_server, accounts_mapping
):
    assert "Nightly" not in owner.browser.get(BASE).content.decode()
    new = owner.browser.get(f"{BASE}new/")
    assert new.status_code == 200 and "CRM accounts" in new.content.decode()
    response = owner.browser.post(f"{BASE}new/", form(sftp_server))
    assert response.status_code == 302, response.content.decode()[:2000]
    source = SftpSource.objects.get()
    assert response["Location"] == f"{BASE}{source.pk}/"
    assert source.password == PASSWORD and source.enabled and source.archive_folder == "/archive"
    page = owner.browser.get(response["Location"]).content.decode()
    assert "Nightly CRM drop" in page and "Test connection" in page and "Poll now" in page
    assert "Not polled yet" in page and "No file seen yet" in page
    edit = owner.browser.get(f"{BASE}{source.pk}/edit/").content.decode()
    assert (
        PASSWORD not in edit
        and source.password_sealed not in edit
        and "leave blank to keep" in edit
    )
    assert "Nightly CRM drop" in owner.browser.get(BASE).content.decode()


def test_bad_input_answers_400_naming_the_field_and_keeps_what_was_typed(
    owner, sftp_server, accounts_mapping
):
    response = owner.browser.post(
        f"{BASE}new/", form(sftp_server, every_minutes="1", name="Typed name")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "every_minutes: must be between 5 and 10080" in html and 'value="Typed name"' in html
    response = owner.browser.post(f"{BASE}new/", form(sftp_server, mapping=""))
    assert response.status_code == 400 and "mapping: is required" in response.content.decode()
    assert not SftpSource.objects.exists()


def test_test_connection_trusts_the_host_key_and_says_what_it_found(
    owner, make_source, sftp_server
):
    source = make_source()
    sftp_server.write("outgoing/a.csv", b"external_id,name\r\n")
    sftp_server.write("outgoing/notes.txt", b"hello")
    response = owner.browser.post(f"{BASE}{source.pk}/test/", follow=True)
    html = response.content.decode()
    assert "Connected to 127.0.0.1" in html and "2 files, 1 matching *.csv" in html
    source.refresh_from_db()
    assert source.host_key_fingerprint == sftp_server.fingerprint
    assert sftp_server.fingerprint in html
    SftpSource.objects.filter(pk=source.pk).update(
        password_sealed=SftpSource(password="nope").password_sealed
    )
    html = owner.browser.post(f"{BASE}{source.pk}/test/", follow=True).content.decode()
    assert "Connection test failed: authentication failed" in html


def test_poll_now_queues_a_poll_and_the_page_lists_files_with_their_imports(
    owner, make_source, sftp_server
):
    source = make_source()
    response = owner.browser.post(f"{BASE}{source.pk}/poll/")
    assert response.status_code == 302
    assert (
        Job.objects.filter(
            kind="hub.sftp_poll", workspace=owner.workspace, payload={"source_id": source.pk}
        ).count()
        == 1
    )
    sftp_server.write(
        "outgoing/accounts.csv", b"external_id,name\r\na-1,Acme\r\n", mtime=int(time.time()) - 60
    )
    sftp_server.write("outgoing/accounts.csv.done", b"")
    sftp_server.write("outgoing/later.csv", b"external_id,name\r\na-2,Glo")
    poll_source(source.pk)
    rf = RemoteFile.objects.get(path="/outgoing/accounts.csv")
    html = owner.browser.get(f"{BASE}{source.pk}/").content.decode()
    assert f'href="/data/imports/{rf.import_run_id}/"' in html
    assert "Waiting until complete" in html and "/archive/accounts.csv" in html
    # A failing source says why, on its page and in the list.
    SftpSource.objects.filter(pk=source.pk).update(port=1)
    with pytest.raises(Exception, match="could not connect"):
        poll_source(source.pk)
    source.refresh_from_db()
    assert source.last_poll_status == PollStatus.FAILED
    html = owner.browser.get(f"{BASE}{source.pk}/").content.decode()
    assert "The last poll failed" in html and "connection refused" in html
    assert "connection refused" in owner.browser.get(BASE).content.decode()


def test_a_viewer_reads_but_cannot_change_test_or_poll(owner, viewer, make_source):
    source = make_source()
    assert viewer.browser.get(BASE).status_code == 200
    page = viewer.browser.get(f"{BASE}{source.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        f'action="{BASE}{source.pk}/poll/"' not in html
        and f'href="{BASE}{source.pk}/edit/"' not in html
    )
    assert (
        f'action="{BASE}{source.pk}/poll/"'
        in owner.browser.get(f"{BASE}{source.pk}/").content.decode()
    )
    assert viewer.browser.get(f"{BASE}new/").status_code == 403
    assert viewer.browser.get(f"{BASE}{source.pk}/edit/").status_code == 403
    for action in ("edit/", "test/", "poll/", "delete/"):
        assert viewer.browser.post(f"{BASE}{source.pk}/{action}", {"name": "x"}).status_code == 403
    assert SftpSource.objects.get().name == "Nightly CRM drop" and not Job.objects.exists()


def test_outsiders_get_404_on_every_source_page(owner, outsider, make_source):
    source = make_source()
    for url in ("", "edit/"):
        assert outsider.browser.get(f"{BASE}{source.pk}/{url}").status_code == 404
    for url in ("edit/", "test/", "poll/", "delete/"):
        assert outsider.browser.post(f"{BASE}{source.pk}/{url}", {"name": "x"}).status_code == 404
    assert "Nightly" not in outsider.browser.get(BASE).content.decode()
    assert SftpSource.objects.get().name == "Nightly CRM drop" and not Job.objects.exists()


def test_an_admin_changes_and_deletes_a_source(owner, make_source):
    source = make_source()
    data = form_from(source, every_minutes="30", password="")
    response = owner.browser.post(f"{BASE}{source.pk}/edit/", data)
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.every_minutes == 30 and source.password == PASSWORD
    assert owner.browser.post(f"{BASE}{source.pk}/delete/").status_code == 302
    assert not SftpSource.objects.exists()


def form_from(source, **overrides):
    data = {
        f: getattr(source, f)
        for f in ("name", "host", "port", "username", "auth_method", "folder", "pattern", "object",
                  "source_name", "after_import", "archive_folder", "every_minutes")
    }  # fmt: skip
    data.update(mapping=source.mapping.name, enabled="on", **overrides)
    return data


def test_pages_use_a_bounded_number_of_queries(owner, make_source, django_assert_max_num_queries):
    source = make_source()
    for n in range(3):
        make_source(name=f"Drop {n}")
    RemoteFile.objects.bulk_create(
        RemoteFile(
            workspace=owner.workspace,
            source=source,
            path=f"/outgoing/{n}.csv",
            size=n,
            mtime=1_700_000_000,
        )
        for n in range(60)
    )
    owner.browser.get(BASE)  # signs the client in (session rows) before counting
    with django_assert_max_num_queries(12):
        assert owner.browser.get(BASE).content.decode().count("/data/imports/sftp/") >= 4
    with django_assert_max_num_queries(12):
        html = owner.browser.get(f"{BASE}{source.pk}/").content.decode()
    assert "1–50 of 60 files" in html


def test_the_forms_are_csrf_protected(owner, make_source, sftp_server):
    source = make_source()
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.member.user)
    assert client.post(f"{BASE}new/", form(sftp_server, name="Other")).status_code == 403
    assert client.post(f"{BASE}{source.pk}/poll/").status_code == 403
    assert SftpSource.objects.count() == 1 and not Job.objects.exists()
