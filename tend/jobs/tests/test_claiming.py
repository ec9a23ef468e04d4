import threading
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from tend.jobs.models import Job, JobStatus
from tend.jobs.registry import enqueue
from tend.jobs.runner import claim_next, claim_with_conditional_update, run_job


def test_a_claim_marks_the_job_running_under_a_lease(db):
    job = enqueue("tests.record_effect")
    before = timezone.now()
    claimed = claim_next("worker-a")
    assert claimed.pk == job.pk
    assert claimed.status == JobStatus.RUNNING
    assert claimed.locked_by == "worker-a"
    assert claimed.attempts == 1
    assert before + timedelta(seconds=1.5) < claimed.locked_until <= timezone.now() + timedelta(seconds=2)
    assert claimed.started_at >= before


def test_a_job_under_a_live_lease_is_not_claimed_again(db):
    enqueue("tests.noop")
    assert claim_next("worker-a") is not None
    assert claim_next("worker-b") is None


def test_a_job_is_not_claimed_before_it_is_due(db):
    enqueue("tests.noop", due_at=timezone.now() + timedelta(minutes=5))
    assert claim_next("worker-a") is None
    assert claim_next("worker-a", now=timezone.now() + timedelta(minutes=6)) is not None


def test_the_oldest_due_job_is_claimed_first(db):
    now = timezone.now()
    late = enqueue("tests.noop", due_at=now - timedelta(seconds=1))
    early = enqueue("tests.noop", due_at=now - timedelta(seconds=30))
    assert [claim_next("w").pk, claim_next("w").pk] == [early.pk, late.pk]


def test_an_expired_lease_is_reclaimed_and_the_old_worker_cannot_record_an_outcome(db):
    enqueue("tests.noop")
    first = claim_next("worker-a")
    assert claim_next("worker-b") is None
    after_lease = first.locked_until + timedelta(seconds=1)
    second = claim_next("worker-b", now=after_lease)
    assert second.pk == first.pk
    assert (second.locked_by, second.attempts) == ("worker-b", 2)
    # worker-a was only slow, not dead: its late result must not overwrite worker-b's claim.
    run_job(first, "worker-a")
    second.refresh_from_db()
    assert (second.status, second.locked_by) == (JobStatus.RUNNING, "worker-b")


def test_a_job_whose_worker_died_on_every_attempt_fails_with_the_reason(db):
    job = enqueue("tests.fail")  # max_attempts 3
    now = timezone.now()
    for _ in range(3):
        claimed = claim_next("doomed", now=now)
        now = claimed.locked_until + timedelta(seconds=1)  # the worker dies; the lease runs out
    last = claim_next("survivor", now=now)
    assert run_job(last, "survivor") == JobStatus.FAILED
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.last_error.startswith("LeaseExpired: the worker running attempt 3 of 3 stopped")
    assert job.finished_at is not None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("claim", [claim_next, claim_with_conditional_update], ids=["native", "conditional-update"])
def test_two_workers_never_claim_the_same_job(claim):
    for _ in range(150):
        enqueue("tests.noop")
    claimed: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def work(name):
        mine = claimed.setdefault(name, [])
        try:
            start.wait()
            while (job := claim(name)) is not None:
                mine.append(job.pk)
                # Let the others in: SQLite's busy handler sleeps a waiting writer for up to
                # 100 ms, long enough for one thread to claim every job on a loaded machine.
                time.sleep(0.001)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    all_claims = [pk for ids in claimed.values() for pk in ids]
    assert len(all_claims) == len(set(all_claims)) == 150
    assert sum(1 for ids in claimed.values() if ids) >= 2, "the workers did not actually compete"
    assert Job.objects.filter(status=JobStatus.RUNNING, attempts=1).count() == 150
