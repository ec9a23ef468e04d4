from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tend.jobs.models import Job, JobStatus
from tend.jobs.registry import UnknownJob, enqueue, registered_kinds


def test_jobs_are_discovered_from_each_apps_jobs_module():
    assert "jobs.purge_finished" in registered_kinds()


def test_it_refuses_a_kind_nobody_registered(db):
    with pytest.raises(UnknownJob, match="tests.nope"):
        enqueue("tests.nope")
    assert Job.objects.count() == 0


def test_a_job_takes_its_attempt_limit_from_its_registration(db):
    job = enqueue("tests.fail", {"message": "x"}, workspace_id=None)
    assert (job.status, job.attempts, job.max_attempts, job.payload) == (JobStatus.QUEUED, 0, 3, {"message": "x"})


def test_a_job_queued_in_a_transaction_that_rolls_back_never_exists(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue("tests.noop")
        raise RuntimeError("the action failed")
    assert Job.objects.count() == 0


def test_a_unique_key_collapses_requests_for_the_same_pending_work(db):
    later = timezone.now() + timedelta(minutes=10)
    first = enqueue("tests.noop", unique_key="rescore:1", due_at=later)
    sooner = timezone.now() + timedelta(minutes=1)
    second = enqueue("tests.noop", unique_key="rescore:1", due_at=sooner)
    other = enqueue("tests.noop", unique_key="rescore:2")
    assert second.pk == first.pk != other.pk
    assert Job.objects.get(pk=first.pk).due_at == sooner
    assert Job.objects.count() == 2


def test_a_unique_key_queues_again_once_the_first_job_is_running(db):
    first = enqueue("tests.noop", unique_key="rescore:1")
    Job.objects.filter(pk=first.pk).update(status=JobStatus.RUNNING)
    second = enqueue("tests.noop", unique_key="rescore:1")
    assert second.pk != first.pk
