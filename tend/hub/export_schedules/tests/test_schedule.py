"""When a schedule is due: daily at a time on the workspace's clock (its time zone, summer
time included), or every N hours; the minute job queues a run of each due schedule once,
and the worker runs it, retrying a failure."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tend.hub.export_schedules.jobs import DUE_JOB, queue_due
from tend.hub.export_schedules.models import ExportRun, ExportSchedule, RunStatus, next_run_after
from tend.jobs.models import Job, JobStatus
from tend.jobs.runner import Worker
from tend.jobs.scheduling import declared_schedule

UTC = datetime.UTC
T = datetime.time


def at(*args, tz="UTC"):
    return datetime.datetime(*args, tzinfo=ZoneInfo(tz))


def test_daily_is_the_next_local_time_in_the_workspace_zone():
    berlin = "Europe/Berlin"
    # 06:30 in Berlin (UTC+1 in winter) is 05:30 UTC.
    now = at(2026, 11, 30, 5, 0)
    assert next_run_after("daily", now, at=T(6, 30), every_hours=24, zone=berlin) == at(
        2026, 11, 30, 5, 30
    )
    # Just past it: tomorrow.
    now = at(2026, 11, 30, 5, 30)
    assert next_run_after("daily", now, at=T(6, 30), every_hours=24, zone=berlin) == at(
        2026, 12, 1, 5, 30
    )
    # Late in the UTC day it is already tomorrow in Tokyo.
    now = at(2026, 11, 30, 22, 0)
    assert next_run_after("daily", now, at=T(6, 30), every_hours=24, zone="Asia/Tokyo") == at(
        2026, 11, 30, 21, 30
    ) + datetime.timedelta(days=1)
    # Across the change to summer time, the wall clock time holds (04:30 UTC, not 05:30).
    now = at(2026, 3, 28, 6, 0)
    assert next_run_after("daily", now, at=T(6, 30), every_hours=24, zone=berlin) == at(
        2026, 3, 29, 4, 30
    )
    # A time the clock skips that day (02:30 on 29 March in Berlin) still runs that day.
    got = next_run_after("daily", at(2026, 3, 28, 12, 0), at=T(2, 30), every_hours=24, zone=berlin)
    assert got.date() == datetime.date(2026, 3, 29) and got > at(2026, 3, 28, 12, 0)


def test_every_n_hours_counts_from_now():
    now = at(2026, 11, 30, 10, 17)
    assert next_run_after("hours", now, at=None, every_hours=6, zone="Europe/Berlin") == at(
        2026, 11, 30, 16, 17
    )


@pytest.mark.django_db
def test_a_new_schedule_is_due_at_its_next_local_time(owner, make_schedule):
    owner.workspace.time_zone = "America/New_York"
    owner.workspace.save(update_fields=["time_zone"])
    schedule = make_schedule(time_of_day="23:15")
    local = schedule.next_run_at.astimezone(ZoneInfo("America/New_York"))
    assert (local.hour, local.minute) == (23, 15)
    assert timezone.now() < schedule.next_run_at <= timezone.now() + datetime.timedelta(days=1)
    hourly = make_schedule(name="Hourly", schedule="hours", every_hours=3, time_of_day="")
    expected = timezone.now() + datetime.timedelta(hours=3)
    assert abs((hourly.next_run_at - expected).total_seconds()) < 5


@pytest.mark.django_db
def test_the_minute_job_queues_each_due_enabled_schedule_once(owner, make_schedule):
    assert next(e for e in declared_schedule() if e.kind == DUE_JOB).every == datetime.timedelta(
        minutes=1
    )
    due = make_schedule(name="Due", schedule="hours", every_hours=2)
    paused = make_schedule(name="Paused", enabled=False)
    later = make_schedule(name="Later")
    past = timezone.now() - datetime.timedelta(minutes=1)
    ExportSchedule.objects.filter(pk__in=[due.pk, paused.pk]).update(next_run_at=past)
    assert queue_due() == 1
    assert queue_due() == 0  # moved on: not due again
    [run] = ExportRun.objects.all()
    assert run.schedule_id == due.pk and run.trigger == "schedule" and run.status == "queued"
    due.refresh_from_db()
    assert due.next_run_at > timezone.now() + datetime.timedelta(minutes=119)
    assert Job.objects.filter(kind="hub.export_run").count() == 1
    later.refresh_from_db()
    assert later.last_status == RunStatus.NEVER


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_a_due_export_and_retries_a_failure(owner, make_schedule, sftp_server):
    schedule = make_schedule(schedule="hours", every_hours=1, file_name="accounts.csv")
    ExportSchedule.objects.filter(pk=schedule.pk).update(next_run_at=timezone.now())
    sftp_server.password = "not-yet"
    queue_due()
    job = Job.objects.get(kind="hub.export_run")
    Worker(burst=True, poll_seconds=0).run()
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.QUEUED, 1)  # retried after a backoff
    assert ExportRun.objects.get().status == RunStatus.RETRYING
    sftp_server.password = "s3cret-sftp-passw0rd"
    Job.objects.filter(pk=job.pk).update(due_at=timezone.now())
    Worker(burst=True, poll_seconds=0).run()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    run = ExportRun.objects.get()
    assert (run.status, run.attempts, run.rows) == (RunStatus.SUCCEEDED, 2, 0)
    assert (sftp_server.root / "warehouse/accounts.csv").read_bytes().startswith(b"\xef\xbb\xbfid,")
