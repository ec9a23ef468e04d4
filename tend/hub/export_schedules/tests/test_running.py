"""Runs against a real SFTP server: CSV and Parquet arrive whole and read back as the
dataset's rows; the file appears only complete (written as a hidden part file, then
renamed); a dropped connection leaves no file and the next run writes it; a changed host
key is refused; the last failed attempt tells the admins once and emits export.failed."""

import csv
import io

import pyarrow.parquet as pq
import pytest
from django.utils import timezone

from tend.events.models import Event
from tend.hub.export_schedules.actions import request_run
from tend.hub.export_schedules.models import ExportRun, ExportSchedule, RunStatus
from tend.hub.export_schedules.running import run_export
from tend.hub.export_schedules.tests.conftest import ACCOUNTS
from tend.hub.sftp.client import SftpError
from tend.jobs.models import Job
from tend.notifications.models import Notification
from tend.outbox.models import Message

pytestmark = pytest.mark.django_db(transaction=True)


def today(workspace):
    from zoneinfo import ZoneInfo

    return timezone.now().astimezone(ZoneInfo(workspace.time_zone)).strftime("%Y-%m-%d")


def run_once(owner, schedule, *, last_attempt=True):
    run = request_run(owner.actor, schedule)
    return run_export(run.pk, last_attempt=last_attempt)


def test_a_csv_export_arrives_whole_and_reads_back_as_the_accounts(
    owner, book, make_schedule, sftp_server
):
    schedule = make_schedule()
    run = run_once(owner, schedule)
    name = f"accounts-{today(book)}.csv"
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.path == f"/warehouse/{name}" and run.rows == ACCOUNTS
    data = (sftp_server.root / "warehouse" / name).read_bytes()
    assert run.bytes == len(data) > 50_000
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == ACCOUNTS
    assert {r["external_id"] for r in rows} == {f"a-{i}" for i in range(ACCOUNTS)}
    first = next(r for r in rows if r["external_id"] == "a-0")
    assert first["name"] == "'=HYPERLINK(1)"  # formula-looking text escaped, as downloads do
    assert sorted(p.name for p in (sftp_server.root / "warehouse").iterdir()) == [name]
    schedule.refresh_from_db()
    assert (schedule.last_status, schedule.last_rows, schedule.last_bytes) == (
        RunStatus.SUCCEEDED, ACCOUNTS, run.bytes,
    )  # fmt: skip
    assert schedule.host_key_fingerprint == sftp_server.fingerprint
    assert run.duration_ms is not None and run.attempts == 1


def test_a_parquet_export_keeps_the_types_and_every_row(owner, book, make_schedule, sftp_server):
    schedule = make_schedule(format="parquet", file_name="{dataset}_{timestamp}.{ext}")
    run = run_once(owner, schedule)
    assert run.status == RunStatus.SUCCEEDED, run.error
    [path] = (sftp_server.root / "warehouse").iterdir()
    assert path.name.startswith("accounts_") and path.suffix == ".parquet"
    table = pq.read_table(path)
    assert table.num_rows == ACCOUNTS == run.rows
    assert str(table.schema.field("id").type) == "int64"
    assert str(table.schema.field("created_at").type).startswith("timestamp")
    names = dict(
        zip(table.column("external_id").to_pylist(), table.column("name").to_pylist(), strict=True)
    )
    assert names["a-0"] == "=HYPERLINK(1)" and names["a-7"].startswith("Account 7 ")


def test_no_final_file_exists_while_the_upload_is_written(owner, book, make_schedule, sftp_server):
    schedule = make_schedule(file_name="accounts.csv")
    final = sftp_server.root / "warehouse" / "accounts.csv"
    final.parent.mkdir()
    final.write_bytes(b"yesterday's complete file\n")
    seen = []

    def look(path, offset):
        seen.append((path, offset, final.read_bytes() == b"yesterday's complete file\n"))

    sftp_server.on_write = look
    run = run_once(owner, schedule)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert len(seen) > 1  # several writes, during each of which ...
    assert {p for p, _, _ in seen} == {"/warehouse/.accounts.csv.part"}
    assert all(old for _, _, old in seen)  # ... the final name still held the old file whole
    assert final.read_bytes().count(b"\n") == ACCOUNTS + 1
    assert not (sftp_server.root / "warehouse/.accounts.csv.part").exists()


def test_a_connection_dropped_mid_upload_leaves_no_file_and_the_next_run_writes_it(
    owner, book, make_schedule, sftp_server
):
    schedule = make_schedule(file_name="accounts.csv")
    sftp_server.drop_after_write = 40_000
    run = request_run(owner.actor, schedule)
    with pytest.raises(SftpError, match="connection"):
        run_export(run.pk, last_attempt=False)
    run.refresh_from_db()
    assert run.status == RunStatus.RETRYING and "connection" in run.error.lower()
    assert sftp_server.drops >= 1
    assert not (sftp_server.root / "warehouse/accounts.csv").exists()
    schedule.refresh_from_db()
    assert schedule.last_status == RunStatus.RETRYING and schedule.failures == 0
    assert not Notification.objects.exists()
    # The job runner tries again: this time the connection holds.
    sftp_server.drop_after_write = None
    run = run_export(run.pk, last_attempt=False)
    assert run.status == RunStatus.SUCCEEDED and run.attempts == 2
    folder = sorted(p.name for p in (sftp_server.root / "warehouse").iterdir())
    assert folder == ["accounts.csv"]  # the part file of the dropped attempt was replaced
    assert (sftp_server.root / "warehouse/accounts.csv").read_bytes().count(b"\n") == ACCOUNTS + 1


def test_the_last_failed_attempt_tells_the_admins_once_and_emits_export_failed(
    owner, book, make_schedule, sftp_server, monkeypatch
):
    # Events are stored only when a consumer (a webhook subscription, above this app) wants them.
    monkeypatch.setattr("tend.events.actions.wanted_types", lambda workspace_id: {"export.failed"})
    schedule = make_schedule()
    sftp_server.password = "changed-on-the-server"
    request_run(owner.actor, schedule)
    run = ExportRun.objects.get()
    with pytest.raises(SftpError, match="authentication failed"):
        run_export(run.pk, last_attempt=False)
    assert not Notification.objects.exists()
    with pytest.raises(SftpError):
        run_export(run.pk, last_attempt=True)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.finished_at is not None
    schedule.refresh_from_db()
    assert schedule.failures == 1 and "authentication failed" in schedule.last_error
    [note] = Notification.objects.all()
    assert note.title == "Scheduled export Nightly accounts failed"
    assert note.url == f"/data/exports/scheduled/{schedule.pk}/"
    [mail] = Message.objects.filter(subject__startswith="Scheduled export")
    assert "No file was written" in mail.text
    [event] = Event.objects.filter(type="export.failed")
    assert event.data["export"]["id"] == schedule.pk and event.data["export"]["run_id"] == run.pk
    # A second failed run in a row tells nobody again; a good one resets the count.
    run2 = request_run(owner.actor, schedule)
    with pytest.raises(SftpError):
        run_export(run2.pk, last_attempt=True)
    assert (
        Notification.objects.count() == 1
        and Event.objects.filter(type="export.failed").count() == 1
    )
    sftp_server.password = "s3cret-sftp-passw0rd"
    run3 = run_once(owner, schedule)
    assert run3.status == RunStatus.SUCCEEDED
    schedule.refresh_from_db()
    assert schedule.failures == 0 and schedule.last_error == ""
    assert list(schedule.runs.values_list("status", flat=True)) == ["succeeded", "failed", "failed"]
    assert not (sftp_server.root / "warehouse").exists() or [
        p.name for p in (sftp_server.root / "warehouse").iterdir()
    ] == [f"accounts-{today(book)}.csv"]


def test_a_changed_host_key_is_refused_before_logging_in(owner, book, make_schedule, sftp_server):
    schedule = make_schedule()
    assert run_once(owner, schedule).status == RunStatus.SUCCEEDED
    logins = sftp_server.logins
    sftp_server.new_host_key()
    with pytest.raises(SftpError, match="host key of 127.0.0.1"):
        run_once(owner, schedule)
    assert sftp_server.logins == logins
    schedule.refresh_from_db()
    assert schedule.last_status == RunStatus.FAILED and "changed" in schedule.last_error


def test_run_now_twice_queues_one_run_and_one_job(owner, make_schedule):
    schedule = make_schedule()
    first = request_run(owner.actor, schedule)
    assert request_run(owner.actor, schedule).pk == first.pk
    assert Job.objects.filter(kind="hub.export_run").count() == 1
    assert ExportSchedule.objects.get().last_status == RunStatus.QUEUED


def test_a_server_that_stops_taking_writes_is_given_up_on_within_the_bound(
    owner, book, make_schedule, sftp_server, monkeypatch
):
    import time

    from tend.hub.sftp import client

    monkeypatch.setattr(client, "STALL_TIMEOUT", 0.5)
    monkeypatch.setattr(client, "MIN_RATE", 10**9)
    schedule = make_schedule(file_name="accounts.csv")
    stalled = []

    def stall(path, offset):
        if not stalled:
            stalled.append(offset)
            time.sleep(4)  # the server's loop stops answering meanwhile

    sftp_server.on_write = stall
    run = request_run(owner.actor, schedule)
    started = time.monotonic()
    with pytest.raises(SftpError, match="did not answer in time"):
        run_export(run.pk, last_attempt=False)
    assert time.monotonic() - started < 15
    assert not (sftp_server.root / "warehouse/accounts.csv").exists()
    sftp_server.on_write = None
    time.sleep(4)  # the stalled server catches up (and removes the part file it was asked to)
    assert run_export(run.pk).status == RunStatus.SUCCEEDED
    assert sorted(p.name for p in (sftp_server.root / "warehouse").iterdir()) == ["accounts.csv"]


def test_a_destination_logged_in_to_with_a_private_key(owner, book, make_schedule, sftp_server):
    schedule = make_schedule(
        auth_method="key", password="", private_key=sftp_server.client_key_text
    )
    assert schedule.password_sealed == "" and schedule.private_key_sealed
    run = run_once(owner, schedule)
    assert run.status == RunStatus.SUCCEEDED and run.rows == ACCOUNTS


def test_a_run_whose_schedule_was_deleted_meanwhile_is_nothing_to_do(owner, make_schedule):
    schedule = make_schedule()
    run = request_run(owner.actor, schedule)
    schedule.delete()
    assert run_export(run.pk) is None


def test_one_run_of_a_schedule_writes_at_a_time(owner, book, make_schedule, sftp_server):
    from datetime import timedelta

    from tend.hub.export_schedules.running import claim

    schedule = make_schedule(file_name="accounts.csv")
    assert claim(schedule.pk, "run:elsewhere")  # another run is writing
    run = request_run(owner.actor, schedule)
    Job.objects.filter(kind="hub.export_run").delete()  # as if its job were this one, running
    assert run_export(run.pk).status == RunStatus.QUEUED
    [again] = Job.objects.filter(kind="hub.export_run")
    assert again.payload == {"run_id": run.pk}
    assert again.due_at > timezone.now() + timedelta(seconds=50)
    assert not (sftp_server.root / "warehouse").exists()
    # Its claim released (or lapsed), the run writes; and leaves the schedule free.
    ExportSchedule.objects.filter(pk=schedule.pk).update(running_until=None, run_claim="")
    assert run_export(run.pk).status == RunStatus.SUCCEEDED
    schedule.refresh_from_db()
    assert (schedule.running_until, schedule.run_claim) == (None, "")
    # A claim left by a killed worker lapses.
    ExportSchedule.objects.filter(pk=schedule.pk).update(
        running_until=timezone.now() - timedelta(seconds=1), run_claim="run:killed"
    )
    assert run_once(owner, schedule).status == RunStatus.SUCCEEDED
