"""Polling a real SFTP server: only complete files are imported, each content once, moved to
the archive or left; failures are recorded, retried and told."""

import time

import pytest

from tend.accounts.models import Account
from tend.hub.models import Import, ImportStatus
from tend.hub.running import run_import
from tend.hub.sftp.client import SftpError
from tend.hub.sftp.models import PollStatus, RemoteFile, RemoteFileState, SftpSource
from tend.hub.sftp.polling import poll_source
from tend.notifications.models import Notification
from tend.outbox.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

HEAD = b"external_id,name\r\n"
ROWS = b"a-1,Acme\r\na-2,Globex\r\n"
MORE = b"a-3,Initech\r\n"
T0 = int(time.time()) - 3600


def imports(source):
    return list(Import.objects.filter(workspace=source.workspace).order_by("id"))


def run_all(source):
    for imp in Import.objects.filter(workspace=source.workspace, status=ImportStatus.QUEUED):
        run_import(imp.pk)


def test_a_file_still_being_written_is_imported_only_once_it_stopped_changing(
    make_source, sftp_server
):
    source = make_source()
    sftp_server.write("outgoing/accounts.csv", HEAD + b"a-1,Ac", mtime=T0)
    assert poll_source(source.pk).waiting == 1
    sftp_server.append("outgoing/accounts.csv", b"me\r\na-2,Glo", mtime=T0 + 5)
    assert poll_source(source.pk).waiting == 1  # it grew since the last poll
    sftp_server.append("outgoing/accounts.csv", b"bex\r\n", mtime=T0 + 9)
    assert poll_source(source.pk).waiting == 1  # finished now, but not yet seen unchanged
    assert imports(source) == []
    outcome = poll_source(source.pk)  # unchanged across two polls: complete
    assert len(outcome.imported) == 1 and outcome.waiting == 0
    [imp] = imports(source)
    assert (imp.file_name, imp.source, imp.status, imp.dry_run) == (
        "accounts.csv",
        "CRM",
        ImportStatus.QUEUED,
        False,
    )
    assert imp.mapping == {"external_id": "external_id", "name": "name"}
    run_import(imp.pk)
    assert sorted(
        Account.objects.filter(workspace=source.workspace).values_list("external_id", "name")
    ) == [("a-1", "Acme"), ("a-2", "Globex")]
    rf = RemoteFile.objects.get(source=source)
    assert (
        rf.state == RemoteFileState.IMPORTED and rf.import_run_id == imp.pk and len(rf.sha256) == 64
    )
    assert rf.archived_to == "/archive/accounts.csv"
    assert not (sftp_server.root / "outgoing/accounts.csv").exists()
    assert (sftp_server.root / "archive/accounts.csv").read_bytes() == HEAD + ROWS
    source.refresh_from_db()
    assert source.last_poll_status == PollStatus.OK and source.last_error == ""
    assert source.host_key_fingerprint == sftp_server.fingerprint


def test_the_same_content_is_imported_once_under_any_name_or_when_uploaded_again(
    make_source, sftp_server
):
    source = make_source(after_import="leave", archive_folder="")
    sftp_server.write("outgoing/a.csv", HEAD + ROWS, mtime=T0)
    poll_source(source.pk)
    assert len(poll_source(source.pk).imported) == 1
    # Left in place: later polls see it, unchanged, and import nothing.
    assert poll_source(source.pk).imported == []
    # The same bytes under another name, and the first file uploaded again (new mtime).
    sftp_server.write("outgoing/b-copy.csv", HEAD + ROWS, mtime=T0 + 60)
    sftp_server.write("outgoing/a.csv", HEAD + ROWS, mtime=T0 + 120)
    poll_source(source.pk)
    outcome = poll_source(source.pk)
    assert outcome.imported == [] and len(outcome.duplicates) == 2
    assert len(imports(source)) == 1
    states = sorted(RemoteFile.objects.filter(source=source).values_list("path", "state"))
    assert states == [
        ("/outgoing/a.csv", "duplicate"),
        ("/outgoing/a.csv", "imported"),
        ("/outgoing/b-copy.csv", "duplicate"),
    ]
    assert (sftp_server.root / "outgoing/a.csv").exists()  # left, as configured
    # New content is a new import.
    sftp_server.write("outgoing/c.csv", HEAD + MORE, mtime=T0)
    poll_source(source.pk)
    assert len(poll_source(source.pk).imported) == 1
    assert len(imports(source)) == 2


def test_a_done_marker_makes_a_file_complete_at_once_and_moves_with_it(make_source, sftp_server):
    source = make_source()
    sftp_server.write("outgoing/accounts.csv", HEAD + ROWS, mtime=T0)
    sftp_server.write("outgoing/accounts.csv.done", b"", mtime=T0)
    outcome = poll_source(source.pk)
    assert len(outcome.imported) == 1
    assert sorted(p.name for p in (sftp_server.root / "outgoing").iterdir()) == []
    assert sorted(p.name for p in (sftp_server.root / "archive").iterdir()) == [
        "accounts.csv",
        "accounts.csv.done",
    ]
    # A marker alone is no file to import.
    sftp_server.write("outgoing/other.csv.done", b"", mtime=T0)
    assert poll_source(source.pk).imported == []
    assert len(imports(source)) == 1


def test_a_connection_dropped_mid_transfer_imports_nothing_and_the_next_poll_imports_once(
    make_source, sftp_server, import_dir
):
    source = make_source()
    big = HEAD + b"".join(f"a-{n},Company {n}\r\n".encode() for n in range(40_000))
    sftp_server.write("outgoing/big.csv", big, mtime=T0)
    poll_source(source.pk)
    sftp_server.drop_after = 300_000
    with pytest.raises(SftpError, match="lost|answered"):
        poll_source(source.pk, last_attempt=False)
    assert sftp_server.drops == 1
    assert imports(source) == []
    assert not list(import_dir.rglob("*.part")), "the partial download was discarded"
    source.refresh_from_db()
    assert source.last_poll_status == PollStatus.FAILED and "127.0.0.1" in source.last_error
    assert source.failures == 0  # an attempt the job will retry: no alert yet
    sftp_server.drop_after = None
    outcome = poll_source(source.pk)
    assert len(outcome.imported) == 1
    [imp] = imports(source)
    run_import(imp.pk)
    imp.refresh_from_db()
    assert imp.created == 40_000 and imp.size == len(big)
    assert poll_source(source.pk).imported == []
    source.refresh_from_db()
    assert source.last_poll_status == PollStatus.OK and source.last_error == ""


def test_a_wrong_password_is_a_clear_error_and_repeated_failure_tells_the_admins_once(
    make_source, sftp_server, owner
):
    source = make_source()
    SftpSource.objects.filter(pk=source.pk).update(
        password_sealed=SftpSource(password="wrong").password_sealed
    )
    with pytest.raises(SftpError, match="authentication failed.*'feeds'.*password"):
        poll_source(source.pk, last_attempt=False)
    assert Notification.objects.filter(member=owner.member).count() == 0
    for _ in range(2):  # the job's last attempt, then the next scheduled poll's
        with pytest.raises(SftpError):
            poll_source(source.pk, last_attempt=True)
    source.refresh_from_db()
    assert (
        source.last_poll_status == PollStatus.FAILED
        and "authentication failed" in source.last_error
    )
    assert source.failures == 2 and source.failing_since is not None
    [note] = Notification.objects.filter(member=owner.member)
    assert "Nightly CRM drop" in note.title and note.url == f"/data/imports/sftp/{source.pk}/"
    assert (
        Message.objects.filter(
            workspace=source.workspace, subject__contains="Nightly CRM drop"
        ).count()
        == 1
    )
    assert sftp_server.logins == 0


def test_a_changed_host_key_is_refused_before_logging_in(make_source, sftp_server):
    source = make_source()
    sftp_server.write("outgoing/accounts.csv", HEAD + ROWS, mtime=T0)
    poll_source(source.pk)
    source.refresh_from_db()
    first = source.host_key_fingerprint
    assert first == sftp_server.fingerprint
    logins = sftp_server.logins
    sftp_server.new_host_key()
    with pytest.raises(SftpError, match="host key .* changed") as caught:
        poll_source(source.pk, last_attempt=False)
    assert first in caught.value.message and sftp_server.fingerprint in caught.value.message
    assert sftp_server.logins == logins, "no password was sent to the new key"
    source.refresh_from_db()
    assert source.host_key_fingerprint == first and "changed" in source.last_error
    assert imports(source) == []


def test_key_authentication_works_and_credentials_are_stored_encrypted(make_source, sftp_server):
    from django.db import connection

    source = make_source(auth_method="key", private_key=sftp_server.client_key_text, password="")
    sftp_server.write("outgoing/accounts.csv", HEAD + ROWS, mtime=T0)
    sftp_server.write("outgoing/accounts.csv.done", b"")
    assert len(poll_source(source.pk).imported) == 1
    password_source = SftpSource.objects.create(
        workspace=source.workspace,
        name="pw",
        host="example.com",
        username="u",
        mapping=source.mapping,
        object="account",
        password="hunter2-very-secret",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT password_sealed, private_key_sealed FROM hub_sftpsource")
        raw = " ".join(a + b for a, b in cursor.fetchall())
    assert "hunter2-very-secret" not in raw and "PRIVATE KEY" not in raw and "fernet:" in raw
    assert password_source.password == "hunter2-very-secret"


def test_two_polls_of_one_source_never_run_at_once(make_source, sftp_server):
    from tend.hub.sftp.polling import claim

    source = make_source()
    sftp_server.write("outgoing/accounts.csv", HEAD + ROWS, mtime=T0)
    sftp_server.write("outgoing/accounts.csv.done", b"")
    assert claim(source.pk, "job:1")
    assert poll_source(source.pk, holder="job:2") is None  # another poll holds the source
    assert imports(source) == []
    assert len(poll_source(source.pk, holder="job:1").imported) == 1  # the holder's retry runs
    assert poll_source(source.pk, holder="job:2") is not None  # released when done


def test_a_file_the_saved_mapping_does_not_fit_becomes_a_failed_import_and_is_left(
    make_source, sftp_server, owner
):
    source = make_source()
    sftp_server.write("outgoing/wrong.csv", b"code,company\r\nx,Acme\r\n", mtime=T0)
    sftp_server.write("outgoing/wrong.csv.done", b"")
    sftp_server.write("outgoing/empty.csv", b"", mtime=T0)
    sftp_server.write("outgoing/empty.csv.done", b"")
    outcome = poll_source(source.pk)
    assert sorted(rf.name for rf in outcome.rejected) == ["empty.csv", "wrong.csv"]
    [imp] = imports(source)
    assert (
        imp.status == ImportStatus.FAILED
        and "does not fit this file" in imp.error
        and "external_id" in imp.error
    )
    wrong = RemoteFile.objects.get(path="/outgoing/wrong.csv")
    assert wrong.state == RemoteFileState.REJECTED and wrong.import_run_id == imp.pk
    empty = RemoteFile.objects.get(path="/outgoing/empty.csv")
    assert (
        empty.state == RemoteFileState.REJECTED
        and "empty" in empty.error
        and empty.import_run_id is None
    )
    assert (sftp_server.root / "outgoing/wrong.csv").exists() and (
        sftp_server.root / "outgoing/empty.csv"
    ).exists()
    titles = sorted(
        Notification.objects.filter(member=owner.member).values_list("title", flat=True)
    )
    assert any("wrong.csv failed" in t for t in titles) and any(
        "empty.csv could not be read" in t for t in titles
    )
    # Left where they are, they are not tried again until they change.
    assert poll_source(source.pk).rejected == []
    assert len(imports(source)) == 1


def test_a_file_gone_between_listing_and_download_is_skipped_and_the_rest_imported(
    make_source, sftp_server, monkeypatch
):
    from tend.hub.sftp.client import Connection, Entry

    source = make_source()
    sftp_server.write("outgoing/real.csv", HEAD + ROWS, mtime=T0)
    sftp_server.write("outgoing/real.csv.done", b"")
    listdir = Connection.listdir

    def with_a_ghost(self, folder):
        return [
            *listdir(self, folder),
            Entry("a-ghost.csv", 10, T0, True),
            Entry("a-ghost.csv.done", 0, T0, True),
        ]

    monkeypatch.setattr(Connection, "listdir", with_a_ghost)
    outcome = poll_source(source.pk)
    assert [rf.name for rf in outcome.imported] == ["real.csv"]
    assert RemoteFile.objects.get(path="/outgoing/a-ghost.csv").state == RemoteFileState.WAITING
    source.refresh_from_db()
    assert source.last_poll_status == PollStatus.OK


def test_a_host_that_resolves_to_a_private_address_is_refused_before_connecting(
    make_source, sftp_server, settings
):
    source = make_source()
    SftpSource.objects.filter(pk=source.pk).update(host="localhost")
    settings.TEND_OUTGOING_ALLOW = ""
    with pytest.raises(SftpError, match="localhost resolves to .*loopback.*TEND_OUTGOING_ALLOW"):
        poll_source(source.pk)
    assert sftp_server.logins == 0
    settings.TEND_OUTGOING_ALLOW = "localhost"
    assert poll_source(source.pk) is not None
