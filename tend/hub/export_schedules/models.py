"""Scheduled exports (docs/exports.md, "Scheduled exports to SFTP"): a dataset written as
CSV or Parquet to a folder on an SFTP server, daily at a local time or every N hours, and
the history of its runs.

The destination's log-in is :class:`tend.hub.sftp.models.SftpLogin`, as for SFTP sources:
the password or private key sealed and never shown back, the host key trusted on first use
and a changed one refused before any credential is sent.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from tend.hub.sftp.models import SftpLogin
from tend.workspaces.models import Member, Workspace

MAX_EVERY_HOURS = 7 * 24


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    PARQUET = "parquet", "Parquet"


class ScheduleKind(models.TextChoices):
    DAILY = "daily", "Daily at a time"
    HOURS = "hours", "Every N hours"


class RunStatus(models.TextChoices):
    NEVER = "never", "Not run yet"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    RETRYING = "retrying", "Failed, will retry"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


BADGES = {
    RunStatus.QUEUED: "queued",
    RunStatus.RUNNING: "running",
    RunStatus.RETRYING: "retrying",
    RunStatus.SUCCEEDED: "succeeded",
    RunStatus.FAILED: "failed",
}


def next_run_after(kind: str, now: datetime, *, at: time | None, every_hours: int, zone: str):
    """The first time after ``now`` the schedule is due: the next ``at`` on the workspace's
    clock (a time the clock skips, on the day summer time starts, is read as the wall time
    an hour later), or ``now`` plus ``every_hours``."""
    if kind == ScheduleKind.HOURS:
        return now + timedelta(hours=every_hours)
    tz = ZoneInfo(zone or "UTC")
    local = now.astimezone(tz)
    day = local.date()
    for _ in range(3):
        candidate = datetime.combine(day, at, tzinfo=tz)
        # Round-trip through UTC so a time that does not exist that day lands on a real one.
        candidate = candidate.astimezone(UTC)
        if candidate > now:
            return candidate
        day += timedelta(days=1)
    raise AssertionError("unreachable: a local time recurs within three days")


class ExportSchedule(SftpLogin):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    dataset = models.CharField(max_length=60, help_text="A dataset key (tend.lib.datasets).")
    format = models.CharField(max_length=8, choices=ExportFormat.choices, default=ExportFormat.CSV)
    folder = models.CharField(
        max_length=500, default="/", help_text="The remote folder written to."
    )
    file_name = models.CharField(
        max_length=200,
        default="{dataset}-{date}.{ext}",
        help_text="A template: {dataset}, {date}, {time}, {timestamp}, {ext}.",
    )
    schedule = models.CharField(
        max_length=6, choices=ScheduleKind.choices, default=ScheduleKind.DAILY
    )
    time_of_day = models.TimeField(
        null=True, blank=True, help_text="For daily: the time on the workspace's clock."
    )
    every_hours = models.PositiveIntegerField(default=24, help_text="For every N hours.")
    enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    # A run's claim: one run of a schedule writes at a time (they would share the part file).
    running_until = models.DateTimeField(null=True, blank=True)
    run_claim = models.CharField(max_length=64, blank=True)
    # The last run's outcome, also in its ExportRun row.
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(
        max_length=10, choices=RunStatus.choices, default=RunStatus.NEVER
    )
    last_error = models.TextField(blank=True)
    last_rows = models.BigIntegerField(null=True, blank=True)
    last_bytes = models.BigIntegerField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(
        default=0, help_text="Failed runs since the last good one."
    )
    created_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"], name="hub_export_schedule_unique_name"
            ),
        ]
        indexes = [models.Index(fields=["enabled", "next_run_at"], name="hub_export_sched_due_idx")]

    def __str__(self):
        return self.name

    def next_after(self, now: datetime) -> datetime:
        return next_run_after(
            self.schedule,
            now,
            at=self.time_of_day,
            every_hours=self.every_hours,
            zone=self.workspace.time_zone,
        )

    @property
    def when(self) -> str:
        if self.schedule == ScheduleKind.HOURS:
            return "every hour" if self.every_hours == 1 else f"every {self.every_hours} hours"
        return f"daily at {self.time_of_day:%H:%M}"

    @property
    def badge(self) -> str:
        return BADGES.get(self.last_status, "draft")


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Run now"


class ExportRun(models.Model):
    """One run of a schedule: queued by its time or by "Run now", tried by the job runner
    (up to its attempts), and what it wrote."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    schedule = models.ForeignKey(ExportSchedule, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=8, choices=RunTrigger.choices)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    path = models.CharField(max_length=1000, blank=True, help_text="The file written.")
    rows = models.BigIntegerField(null=True, blank=True)
    bytes = models.BigIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["schedule", "-id"], name="hub_export_run_sched_idx")]

    def __str__(self):
        return f"run {self.pk} of {self.schedule_id}"

    @property
    def badge(self) -> str:
        return BADGES.get(self.status, "draft")

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]
