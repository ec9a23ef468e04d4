import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connections
from django.utils import timezone

from tend.jobs.models import Job, ScheduleEntry
from tend.jobs.registry import get_job_type
from tend.jobs.scheduling import Periodic, Scheduler, claim_run, run_due, sync_entries
from tend.schedule import SCHEDULE

HOURLY = Periodic("tick", "tests.noop", every=timedelta(hours=1))
NIGHTLY = Periodic("nightly", "tests.noop", at="03:30")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_every_declared_entry_names_a_registered_job_and_a_unique_name():
    assert len({e.name for e in SCHEDULE}) == len(SCHEDULE)
    for entry in SCHEDULE:
        assert get_job_type(entry.kind)
    assert "purge-finished-jobs" in {e.name for e in SCHEDULE}


def test_an_entry_needs_exactly_one_rhythm():
    with pytest.raises(ValueError, match="exactly one"):
        Periodic("x", "tests.noop")
    with pytest.raises(ValueError, match="exactly one"):
        Periodic("x", "tests.noop", every=timedelta(hours=1), at=time(3))


def test_an_interval_entry_keeps_its_rhythm_and_skips_missed_runs():
    due = at("2026-01-01T10:00")
    assert HOURLY.next_run(due, at("2026-01-01T10:00:05")) == at("2026-01-01T11:00")
    # Down for five and a half hours: one run now, then back on the hour, no catch-up burst.
    assert HOURLY.next_run(due, at("2026-01-01T15:30")) == at("2026-01-01T16:00")


def test_a_daily_entry_runs_at_its_next_time_of_day():
    assert NIGHTLY.first_run(at("2026-01-01T01:00")) == at("2026-01-01T03:30")
    assert NIGHTLY.next_run(at("2026-01-01T03:30"), at("2026-01-01T03:30:01")) == at("2026-01-02T03:30")
    assert NIGHTLY.rhythm == "daily at 03:30 UTC" and HOURLY.rhythm == "every hour"


def test_syncing_adds_updates_and_removes_entries(db):
    ScheduleEntry.objects.create(name="gone", kind="tests.noop", next_run_at=timezone.now())
    ScheduleEntry.objects.create(name="tick", kind="tests.fail", next_run_at=at("2030-01-01T00:00"))
    sync_entries([HOURLY, NIGHTLY], now=at("2026-01-01T01:00"))
    rows = {r.name: r for r in ScheduleEntry.objects.all()}
    assert set(rows) == {"tick", "nightly"}
    assert rows["tick"].kind == "tests.noop"
    assert rows["tick"].next_run_at == at("2030-01-01T00:00"), "an existing entry keeps its next run"
    assert rows["nightly"].next_run_at == at("2026-01-01T03:30")


def test_a_scheduler_enqueues_a_due_entry_once_and_moves_it_forward(db):
    now = timezone.now()
    sync_entries([HOURLY], now=now)
    [job_id] = run_due([HOURLY], now=now)
    assert run_due([HOURLY], now=now + timedelta(minutes=59)) == []
    row = ScheduleEntry.objects.get(name="tick")
    assert (row.next_run_at, row.last_run_at, row.last_job_id) == (now + timedelta(hours=1), now, job_id)
    job = Job.objects.get(pk=job_id)
    assert (job.kind, job.unique_key, job.workspace_id) == ("tests.noop", "schedule:tick", None)


def test_a_scheduler_that_read_a_stale_row_does_not_enqueue_the_run_again(db):
    now = timezone.now()
    sync_entries([HOURLY], now=now)
    seen_by_a = ScheduleEntry.objects.get(name="tick")
    seen_by_b = ScheduleEntry.objects.get(name="tick")
    assert claim_run(HOURLY, seen_by_a, now) is not None
    assert claim_run(HOURLY, seen_by_b, now) is None
    assert Job.objects.count() == 1


def test_runs_do_not_pile_up_while_no_worker_takes_them(db):
    now = timezone.now()
    sync_entries([HOURLY], now=now)
    first = run_due([HOURLY], now=now)
    second = run_due([HOURLY], now=now + timedelta(hours=1))
    assert first == second, "the still-queued job stands for the next run too"
    assert Job.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_running_at_once_enqueue_each_run_once():
    every_second = Periodic("often", "tests.noop", every=timedelta(seconds=1))
    start = timezone.now()
    sync_entries([every_second], now=start)
    enqueued: list[int] = []
    barrier = threading.Barrier(2)

    def scheduler(index):
        try:
            for step in range(10):
                barrier.wait()
                # Both see the same clock, so both find the entry due and race for it.
                enqueued.extend(run_due([every_second], now=start + timedelta(seconds=step)))
                barrier.wait()
                if index == 0:  # a worker takes the job before the next run
                    Job.objects.filter(status="queued").update(status="succeeded")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scheduler, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ScheduleEntry.objects.get().next_run_at == start + timedelta(seconds=10)
    assert len(enqueued) == 10, "each of the ten runs was claimed by exactly one scheduler"
    assert Job.objects.count() == len(set(enqueued)) == 10


def test_the_scheduler_loop_syncs_and_enqueues_the_declared_schedule(db):
    Scheduler(poll_seconds=0.01).run(once=True)
    assert set(ScheduleEntry.objects.values_list("name", flat=True)) == {e.name for e in SCHEDULE}
    assert Job.objects.filter(kind="jobs.purge_finished").count() == 1
