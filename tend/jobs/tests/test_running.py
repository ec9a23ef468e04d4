from datetime import timedelta

import pytest
from django.utils import timezone

from tend.jobs.models import Job, JobStatus
from tend.jobs.registry import enqueue
from tend.jobs.runner import Worker, backoff, claim_next, run_job
from tend.jobs.tests import sample_jobs


def test_a_job_that_returns_succeeds_and_releases_its_lease(db):
    job = enqueue("tests.noop")
    assert run_job(claim_next("w"), "w") == JobStatus.SUCCEEDED
    job.refresh_from_db()
    assert (job.status, job.attempts, job.locked_until, job.last_error) == (JobStatus.SUCCEEDED, 1, None, "")
    assert job.finished_at >= job.started_at


def test_backoff_doubles_from_ten_seconds_up_to_an_hour():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff(30) == timedelta(hours=1)


def test_a_failing_job_is_retried_with_backoff_then_fails_with_its_reason(db):
    job = enqueue("tests.fail", {"message": "the CRM said no"})  # max_attempts 3
    for attempt in (1, 2):
        now = timezone.now()
        claimed = claim_next("w", now=now + timedelta(hours=2) * attempt)
        assert run_job(claimed, "w") == JobStatus.QUEUED
        job.refresh_from_db()
        assert (job.status, job.attempts, job.locked_by) == (JobStatus.QUEUED, attempt, "")
        expected_due = timezone.now() + backoff(attempt)
        assert abs((job.due_at - expected_due).total_seconds()) < 2
        assert job.last_error.startswith("ValueError: the CRM said no")
        assert claim_next("w") is None, "a job waiting out its backoff must not be claimed"
    assert run_job(claim_next("w", now=timezone.now() + timedelta(hours=9)), "w") == JobStatus.FAILED
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.FAILED, 3)
    assert job.error_summary == "ValueError: the CRM said no"
    assert "Traceback (innermost frames):" in job.last_error and "failing_job" in job.last_error
    assert job.finished_at is not None and job.locked_until is None


def test_a_requeued_job_gives_up_its_unique_key_when_another_job_holds_it(db):
    first = enqueue("tests.fail", unique_key="sync:7")
    claimed = claim_next("w")
    newer = enqueue("tests.fail", unique_key="sync:7")
    assert newer.pk != first.pk
    assert run_job(claimed, "w") == JobStatus.QUEUED
    first.refresh_from_db()
    assert (first.status, first.unique_key) == (JobStatus.QUEUED, None)


def test_a_workspace_job_runs_inside_that_workspace_scope(workspace):
    sample_jobs.seen_scopes.clear()
    enqueue("tests.record_scope", workspace_id=workspace.pk)
    enqueue("tests.record_scope")
    Worker(burst=True).run()
    assert sample_jobs.seen_scopes == [
        {"_enabled": True, "workspace": workspace.pk},
        {"_enabled": False},
    ]


def test_a_burst_worker_runs_everything_due_and_reports_it(db):
    for _ in range(3):
        enqueue("tests.noop")
    enqueue("tests.fail")
    stats = Worker(burst=True).run()
    assert (stats.succeeded, stats.retried, stats.failed) == (3, 1, 0)
    assert Job.objects.filter(status=JobStatus.SUCCEEDED).count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_heartbeat_keeps_extending_the_lease_of_a_long_job():
    sample_jobs.seen_leases.clear()
    job = enqueue("tests.outlive_lease")  # lease 1 s, runs 1.6 s
    assert run_job(claim_next("w"), "w") == JobStatus.SUCCEEDED
    (claimed_until, later_until), = sample_jobs.seen_leases
    assert later_until > claimed_until + timedelta(seconds=0.3)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
