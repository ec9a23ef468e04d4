"""Workers die; jobs do not get lost or done twice (DESIGN "Jobs survive a killed worker").

These run real ``tend worker`` processes against the test database and signal them.
"""

import random
import signal
import time

import pytest
from django.db import transaction

from tend.jobs.models import Job, JobStatus
from tend.jobs.registry import enqueue
from tend.jobs.runner import Worker
from tend.jobs.tests.processes import start_worker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

JOBS = 1000
KILLS = 16


def job_is_running(job: Job):
    return Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).exists()


def test_a_worker_killed_again_and_again_loses_nothing_and_repeats_no_effect(effects, tmp_path):
    with transaction.atomic():
        ids = {enqueue("tests.record_effect", {"after": 0.006}).pk for _ in range(JOBS)}
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    log = tmp_path / "workers.log"
    held_when_killed: set[tuple[int, int]] = set()  # (job, attempt) running at a kill
    for kill in range(KILLS):
        worker = start_worker(log)
        # Kill at a random instant of its work, not of its start-up: a loaded machine can
        # take longer than the whole random delay just to import the apps.
        wait_for(
            lambda n=kill + 1: log.exists() and log.read_bytes().count(b" started") >= n,
            timeout=30, what="the worker to start",
        )
        time.sleep(rng.uniform(0.2, 2.0))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        held_when_killed |= set(Job.objects.filter(status=JobStatus.RUNNING).values_list("pk", "attempts"))
    done_while_killing = Job.objects.filter(status=JobStatus.SUCCEEDED).count()

    last_log = tmp_path / "last-worker.log"
    last = start_worker(last_log)
    try:
        wait_for(lambda: b" started" in last_log.read_bytes(), timeout=20, what="the last worker to start")
        wait_for(
            lambda: Job.objects.filter(status=JobStatus.SUCCEEDED).count() == JOBS,
            timeout=60, interval=0.2, what=f"all jobs to succeed (seed {seed}, log {log})",
        )
    finally:
        last.send_signal(signal.SIGTERM)
        exit_code = last.wait(timeout=15)

    assert exit_code == 0
    assert done_while_killing > 0, f"the killed workers should have made progress (seed {seed})"
    assert held_when_killed, f"no kill landed while a job was claimed (seed {seed})"
    assert not Job.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).exists()
    assert Job.objects.filter(status=JobStatus.SUCCEEDED).count() == JOBS
    done = effects()
    assert set(done) == ids, "every job's effect happened"  # and, by the key, exactly once each
    reclaimed = Job.objects.filter(attempts__gt=1).count()
    print(f"seed {seed}: {len(held_when_killed)} kills held a job, {done_while_killing} done while killing, "
          f"{reclaimed} reclaimed, {sum(done.values()) - JOBS} repeated runs met their own effect")
    assert reclaimed >= 1, f"some killed worker's lease should have been reclaimed (seed {seed})"
    # A job run again after its effect committed met its own effect and changed nothing.
    assert sum(done.values()) >= JOBS


def test_sigterm_lets_the_current_job_finish_and_then_stops(effects, tmp_path):
    current = enqueue("tests.slow_effect", {"seconds": 1.5})
    worker = start_worker(tmp_path / "worker.log")
    wait_for(lambda: job_is_running(current), timeout=20, what="the worker to take the job")
    waiting = enqueue("tests.slow_effect", {"seconds": 0})
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0
    current.refresh_from_db()
    waiting.refresh_from_db()
    assert (current.status, current.attempts) == (JobStatus.SUCCEEDED, 1)
    assert effects() == {current.pk: 1}
    assert waiting.status == JobStatus.QUEUED, "a stopping worker takes no new job"


def test_a_second_sigterm_exits_at_once_and_the_lease_brings_the_job_back(effects, tmp_path):
    job = enqueue("tests.slow_effect", {"seconds": 30})
    worker = start_worker(tmp_path / "worker.log")
    wait_for(lambda: job_is_running(job), timeout=20, what="the worker to take the job")
    worker.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    signalled = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=5) == 128 + signal.SIGTERM
    assert time.monotonic() - signalled < 3
    job.refresh_from_db()
    assert (job.status, effects()) == (JobStatus.RUNNING, {})

    # When the lease runs out another worker runs it to completion.
    Job.objects.filter(pk=job.pk).update(locked_until=job.started_at, payload={"seconds": 0})
    Worker(burst=True).run()
    job.refresh_from_db()
    assert (job.status, job.attempts, effects()) == (JobStatus.SUCCEEDED, 2, {job.pk: 1})
