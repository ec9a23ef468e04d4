from datetime import timedelta

from django.utils import timezone

from tend.jobs.jobs import purge_finished
from tend.jobs.models import Job, JobStatus


def make(status: str, age_days: float) -> Job:
    finished = timezone.now() - timedelta(days=age_days)
    return Job.objects.create(kind="tests.noop", status=status, finished_at=finished, created_at=finished)


def test_it_purges_succeeded_jobs_after_a_week_and_failed_ones_after_a_month(db):
    kept = [
        make(JobStatus.SUCCEEDED, 6),
        make(JobStatus.FAILED, 8),
        make(JobStatus.FAILED, 29),
        Job.objects.create(kind="tests.noop", created_at=timezone.now() - timedelta(days=90)),
    ]
    make(JobStatus.SUCCEEDED, 8)
    make(JobStatus.FAILED, 31)
    purge_finished(Job(kind="jobs.purge_finished"))
    assert sorted(Job.objects.values_list("pk", flat=True)) == sorted(j.pk for j in kept)


def test_it_purges_in_batches_until_nothing_old_is_left(db, monkeypatch):
    monkeypatch.setattr("tend.jobs.jobs.DELETE_BATCH", 3)
    for _ in range(10):
        make(JobStatus.SUCCEEDED, 10)
    purge_finished(Job(kind="jobs.purge_finished"))
    assert Job.objects.count() == 0
