"""A scheduled export's run: the body of the ``hub.export_run`` job.

1. connect to the destination (host key trusted on first use, refused if changed);
2. stream the dataset's chunks (``tend.hub.exports.dataset_chunks``, CSV or Parquet, read
   from the database while they are written) to ``.<name>.part`` in the folder, then rename
   it to the file name — a loader watching the folder sees the whole file or none;
3. record the outcome on the run and the schedule. A failure (refused, host key changed,
   connection lost mid-upload, a write that stalls…) leaves no final file, removes the part
   file if it can, is recorded and raised so the job runner tries again (10 s, then 20 s);
   when no attempt is left the run is failed, and the first failed run since the last good
   one tells the admins (in the app and by email) and emits ``export.failed``.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tend.events import emit
from tend.hub import alerts
from tend.hub.export_schedules.actions import RUN_JOB, render_file_name
from tend.hub.export_schedules.models import ExportRun, ExportSchedule, RunStatus
from tend.hub.exports import RowCount, dataset_chunks
from tend.hub.sftp.actions import credentials, remember_host_key
from tend.hub.sftp.client import UPLOAD_DEADLINE, Connection, SftpError
from tend.jobs.registry import enqueue
from tend.lib import datasets

log = logging.getLogger("tend.hub.exports")
CLAIM = timedelta(seconds=UPLOAD_DEADLINE + 30 * 60)
WAIT = timedelta(minutes=1)
DONE = (RunStatus.SUCCEEDED, RunStatus.FAILED)


def claim(schedule_id: int, holder: str) -> bool:
    """Take the schedule for one run (two runs would write the same part file); a claim
    left by a killed worker lapses after ``CLAIM``."""
    now = timezone.now()
    return bool(
        ExportSchedule.objects.filter(pk=schedule_id)
        .filter(Q(running_until__isnull=True) | Q(running_until__lt=now) | Q(run_claim=holder))
        .update(running_until=now + CLAIM, run_claim=holder)
    )


def release(schedule_id: int, holder: str) -> None:
    ExportSchedule.objects.filter(pk=schedule_id, run_claim=holder).update(
        running_until=None, run_claim=""
    )


def run_export(run_id: int, *, last_attempt: bool = True) -> ExportRun | None:
    """One attempt at a run (see the module docstring); a run already finished is left, and
    one whose schedule was deleted meanwhile (its runs with it) is nothing to do. While
    another run of the schedule is writing, this one is queued again a minute later."""
    run = ExportRun.objects.select_related("schedule__workspace").filter(pk=run_id).first()
    if run is None or run.status in DONE:
        return run
    holder = f"run:{run.pk}"
    if not claim(run.schedule_id, holder):
        enqueue(
            RUN_JOB,
            {"run_id": run.pk},
            workspace_id=run.workspace_id,
            due_at=timezone.now() + WAIT,
            unique_key=f"{RUN_JOB}:{run.pk}",
        )
        log.info("export run %s waits for another run of its schedule", run.pk)
        return run
    try:
        return _attempt(run, last_attempt=last_attempt)
    finally:
        release(run.schedule_id, holder)


def _attempt(run: ExportRun, *, last_attempt: bool) -> ExportRun:
    schedule = run.schedule
    started = timezone.now()
    clock = time.monotonic()
    ExportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, attempts=run.attempts + 1, started_at=started, error=""
    )
    ExportSchedule.objects.filter(pk=schedule.pk).update(
        last_status=RunStatus.RUNNING, last_run_at=started
    )
    count = RowCount()
    try:
        dataset = datasets.get(schedule.dataset)
        if dataset is None:
            raise SftpError(f"the dataset {schedule.dataset!r} is no longer offered")
        name = render_file_name(schedule, started)
        with Connection(credentials(schedule)) as conn:
            remember_host_key(schedule, conn.fingerprint)
            conn.makedirs(schedule.folder)
            upload = conn.upload(
                dataset_chunks(schedule.workspace, dataset, schedule.format, count),
                schedule.folder,
                name,
            )
    except Exception as exc:
        message = exc.message if isinstance(exc, SftpError) else f"{type(exc).__name__}: {exc}"
        record_failure(run, message, last_attempt=last_attempt, clock=clock)
        raise
    now = timezone.now()
    with transaction.atomic():
        ExportRun.objects.filter(pk=run.pk).update(
            status=RunStatus.SUCCEEDED,
            path=upload.path,
            rows=count.rows,
            bytes=upload.size,
            duration_ms=int((time.monotonic() - clock) * 1000),
            finished_at=now,
            error="",
        )
        ExportSchedule.objects.filter(pk=schedule.pk).update(
            last_status=RunStatus.SUCCEEDED,
            last_error="",
            last_rows=count.rows,
            last_bytes=upload.size,
            last_success_at=now,
            failures=0,
        )
    log.info("export run %s: %s rows, %s bytes to %s", run.pk, count.rows, upload.size, upload.path)
    run.refresh_from_db()
    return run


def record_failure(run: ExportRun, error: str, *, last_attempt: bool, clock: float) -> None:
    now = timezone.now()
    status = RunStatus.FAILED if last_attempt else RunStatus.RETRYING
    with transaction.atomic():
        schedule = (
            ExportSchedule.objects.select_for_update()
            .select_related("workspace")
            .get(pk=run.schedule_id)
        )
        ExportRun.objects.filter(pk=run.pk).update(
            status=status,
            error=error[:4000],
            duration_ms=int((time.monotonic() - clock) * 1000),
            finished_at=now if last_attempt else None,
        )
        schedule.last_status, schedule.last_error = status, error[:4000]
        fields = ["last_status", "last_error"]
        if last_attempt:
            schedule.failures += 1
            fields.append("failures")
        schedule.save(update_fields=fields)
        if last_attempt and schedule.failures == 1:
            alert_failing(schedule, run)


def alert_failing(schedule: ExportSchedule, run: ExportRun) -> None:
    """Once per run of failures: the admins, and the ``export.failed`` event."""
    alerts.tell_admins(
        schedule.workspace,
        subject=f"Scheduled export {schedule.name} failed",
        text=(
            f"The scheduled export {schedule.name} ({schedule.dataset} as {schedule.format} to "
            f"{schedule.address}, folder {schedule.folder}) failed, after retries:\n\n"
            f"{schedule.last_error}\n\nNo file was written. It runs again on its schedule "
            f"({schedule.when}); you are told once until it works again. Details: Data → "
            f"Exports → Scheduled (/data/exports/scheduled/{schedule.pk}/)."
        ),
        key=f"hub.export.{schedule.pk}.failing.{run.pk}",
        url=f"/data/exports/scheduled/{schedule.pk}/",
        cause=f"Scheduled export {schedule.name}",
        kind="export",
        source="Exports",
    )
    emit(
        schedule.workspace_id,
        "export.failed",
        {
            "export": {
                "id": schedule.pk,
                "name": schedule.name,
                "dataset": schedule.dataset,
                "format": schedule.format,
                "host": schedule.host,
                "folder": schedule.folder,
                "run_id": run.pk,
                "error": schedule.last_error,
            }
        },
    )
