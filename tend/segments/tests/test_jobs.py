"""The segments jobs and their schedule: a workspace with a segment due gets a refresh job,
a worker runs it, counts are recorded hourly, and running any of them twice changes nothing."""

import datetime

import pytest
from django.utils import timezone

from tend.accounts.actions.accounts import update_account
from tend.jobs.models import Job, JobStatus
from tend.jobs.runner import Worker
from tend.schedule import SCHEDULE
from tend.segments import jobs
from tend.segments.models import Segment, SegmentChange, SegmentCount, SegmentMember
from tend.segments.tests.conftest import PAYING, shared

pytestmark = pytest.mark.django_db


def test_the_schedule_refreshes_segments_every_15_seconds_and_records_counts_hourly():
    entries = {entry.name: entry for entry in SCHEDULE}
    assert entries["segments-refresh"].kind == "segments.refresh_due"
    assert entries["segments-refresh"].every == datetime.timedelta(seconds=15)
    assert entries["segments-record-counts"].kind == "segments.record_counts"
    assert entries["segments-record-counts"].every == datetime.timedelta(hours=1)


def test_a_workspace_whose_data_changed_gets_one_refresh_job_and_a_worker_runs_it(
    owner, outsider, book
):
    segment = shared(owner, "Paying", PAYING)
    shared(outsider, "Theirs", PAYING)  # evaluated just now, data unchanged: not due
    update_account(owner.actor, book["wayne"], {"status": "paying"})
    Job.objects.all().delete()
    jobs.refresh_due(None)
    jobs.refresh_due(None)  # the scheduler's next tick: the queued job absorbs it
    queued = Job.objects.filter(kind="segments.refresh")
    assert list(queued.values_list("workspace_id", "payload")) == [
        (owner.workspace.pk, {"workspace_id": owner.workspace.pk})
    ]
    Worker(burst=True, poll_seconds=0).run()
    assert queued.get().status == JobStatus.SUCCEEDED
    assert SegmentMember.objects.filter(segment=segment, account=book["wayne"]).exists()


def test_a_segment_nearly_a_minute_old_is_refreshed_even_when_nothing_changed(owner, book):
    segment = shared(owner, "Paying", PAYING)
    Job.objects.all().delete()
    jobs.refresh_due(None)
    assert not Job.objects.exists()
    Segment.objects.filter(pk=segment.pk).update(
        evaluated_at=timezone.now() - datetime.timedelta(seconds=46)
    )
    jobs.refresh_due(None)
    Worker(burst=True, poll_seconds=0).run()
    assert Segment.objects.get(pk=segment.pk).evaluated_at > timezone.now() - datetime.timedelta(
        seconds=5
    )


def test_running_a_refresh_twice_records_each_change_once(owner, book):
    segment = shared(owner, "Paying", PAYING)
    update_account(owner.actor, book["wayne"], {"status": "paying"})
    job = Job(kind="segments.refresh", payload={"workspace_id": owner.workspace.pk})
    jobs.refresh(job)
    Segment.objects.filter(pk=segment.pk).update(evaluated_at=None)  # as if the job ran again
    jobs.refresh(job)
    assert SegmentChange.objects.filter(segment=segment, account=book["wayne"]).count() == 1


def test_counts_are_recorded_for_every_workspace_and_a_second_run_changes_nothing(
    owner, outsider, book
):
    ours = shared(owner, "Paying", PAYING)
    theirs = shared(outsider, "Theirs")
    SegmentCount.objects.all().delete()
    jobs.record_all_counts(None)
    jobs.record_all_counts(None)
    assert sorted(SegmentCount.objects.values_list("segment_id", "members")) == sorted(
        [(ours.pk, 4), (theirs.pk, 0)]
    )
