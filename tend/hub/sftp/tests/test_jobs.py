"""The schedule and the job runner: due sources get a poll job, the poll runs in a worker,
and a failing poll is retried by the runner, then told once."""

import datetime
import time

import pytest
from django.utils import timezone

from tend.events.models import Event
from tend.hub.models import Import, ImportStatus
from tend.hub.sftp.jobs import DUE_JOB, poll_due
from tend.hub.sftp.models import PollStatus, SftpSource
from tend.jobs.models import Job, JobStatus
from tend.jobs.runner import Worker
from tend.jobs.scheduling import declared_schedule
from tend.notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)


def run_worker():
    Worker(burst=True, poll_seconds=0).run()


def test_the_schedule_polls_due_sources_every_minute():
    entry = next(e for e in declared_schedule() if e.kind == DUE_JOB)
    assert entry.every == datetime.timedelta(minutes=1)


def test_due_enabled_sources_get_one_poll_and_their_next_time_moves_on(make_source):
    due = make_source()
    later = make_source(name="Later")
    paused = make_source(name="Paused", enabled=False)
    SftpSource.objects.filter(pk=later.pk).update(
        next_poll_at=timezone.now() + datetime.timedelta(minutes=5)
    )
    poll_due(None)
    poll_due(None)  # a second pass before the poll ran queues nothing more
    jobs = Job.objects.filter(kind="hub.sftp_poll")
    assert [(j.payload, j.workspace_id) for j in jobs] == [
        ({"source_id": due.pk}, due.workspace_id)
    ]
    due.refresh_from_db()
    assert due.next_poll_at > timezone.now() + datetime.timedelta(minutes=14)
    assert paused.pk not in [j.payload["source_id"] for j in jobs]


def test_a_worker_polls_imports_and_runs_the_import(make_source, sftp_server):
    source = make_source()
    sftp_server.write(
        "outgoing/accounts.csv", b"external_id,name\r\na-1,Acme\r\n", mtime=int(time.time()) - 60
    )
    sftp_server.write("outgoing/accounts.csv.done", b"")
    poll_due(None)
    run_worker()  # the poll, then the import it queued
    imp = Import.objects.get(workspace=source.workspace)
    assert imp.status == ImportStatus.SUCCEEDED and imp.created == 1 and imp.created_by_id is None
    assert Job.objects.get(kind="hub.sftp_poll").status == JobStatus.SUCCEEDED


def test_a_failing_poll_is_retried_by_the_runner_and_told_once_after_the_last_attempt(
    make_source, sftp_server, owner, monkeypatch
):
    # Events are stored only when a consumer (a webhook subscription, above this app) wants them.
    monkeypatch.setattr("tend.events.actions.wanted_types", lambda workspace_id: {"import.failed"})
    source = make_source()
    SftpSource.objects.filter(pk=source.pk).update(
        password_sealed=SftpSource(password="bad").password_sealed
    )
    poll_due(None)
    job = Job.objects.get(kind="hub.sftp_poll")
    for attempt in (1, 2):
        run_worker()
        job.refresh_from_db()
        assert (job.status, job.attempts) == (JobStatus.QUEUED, attempt)  # retried after a backoff
        assert "authentication failed" in job.error_summary
        assert not Notification.objects.filter(member=owner.member).exists()
        Job.objects.filter(pk=job.pk).update(due_at=timezone.now())
    run_worker()
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.FAILED, 3)
    source.refresh_from_db()
    assert source.last_poll_status == PollStatus.FAILED and source.failures == 1
    assert Notification.objects.filter(member=owner.member, kind="import").count() == 1
    [event] = Event.objects.filter(workspace=owner.workspace, type="import.failed")
    assert (
        event.data["source"]["name"] == "Nightly CRM drop"
        and "authentication failed" in event.data["source"]["error"]
    )
