"""The scheduled exports' jobs: every minute, queue a run of each enabled schedule that is
due; and the run itself (``tend.hub.export_schedules.running``), retried by the runner."""

from django.utils import timezone

from tend.hub.export_schedules.actions import RUN_JOB, queue_run
from tend.hub.export_schedules.models import ExportSchedule, RunTrigger
from tend.hub.export_schedules.running import run_export
from tend.jobs.registry import job

DUE_JOB = "hub.export_due"
RUN_ATTEMPTS = 3


def queue_due(now=None) -> int:
    """Queue a run for each enabled schedule whose time has come and move its next time on
    (from now: a scheduler that was down runs once, not once per missed time)."""
    now = now or timezone.now()
    queued = 0
    for schedule in ExportSchedule.objects.filter(
        enabled=True, next_run_at__lte=now
    ).select_related("workspace"):
        moved = ExportSchedule.objects.filter(
            pk=schedule.pk, next_run_at=schedule.next_run_at
        ).update(next_run_at=schedule.next_after(now))
        if moved:
            queue_run(schedule, RunTrigger.SCHEDULE)
            queued += 1
    return queued


@job(DUE_JOB, max_attempts=3, lease_seconds=120)
def export_due(job_row) -> None:
    queue_due()


@job(RUN_JOB, max_attempts=RUN_ATTEMPTS, lease_seconds=3600)
def run(job_row) -> None:
    """One attempt; a failure is recorded and raised so the runner retries it; the last
    attempt's failure alerts the admins."""
    run_export(job_row.payload["run_id"], last_attempt=job_row.attempts >= job_row.max_attempts)
