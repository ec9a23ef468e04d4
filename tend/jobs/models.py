"""The job queue and the schedule, both as rows in the database (DESIGN "Jobs survive a killed worker").

A job row moves queued → running → succeeded, or back to queued (retry with backoff) and
finally to failed. ``locked_until`` is the lease: a running row whose lease has expired
belongs to a worker that died, and any worker may claim it again.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class JobQuerySet(models.QuerySet):
    def claimable(self, now):
        """Rows a worker may take now: due queued rows, and running rows whose lease expired."""
        return self.filter(
            Q(status=JobStatus.QUEUED, due_at__lte=now)
            | Q(status=JobStatus.RUNNING, locked_until__lt=now)
        )

    def pending(self):
        return self.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])


class Job(models.Model):
    """One unit of background work. Claimed across workspaces, so the manager is not scoped."""

    kind = models.CharField(max_length=100, help_text="The registered name of the job function.")
    payload = models.JSONField(default=dict, blank=True)
    # Declared by string: the queue sits below workspaces in the import layers.
    workspace = models.ForeignKey(
        "workspaces.Workspace", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    due_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)
    locked_by = models.CharField(max_length=120, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=5)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    unique_key = models.CharField(
        max_length=200, null=True, blank=True,
        help_text="At most one queued job carries a given key; enqueueing it again returns that job.",
    )

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="job_claim_idx"),
            models.Index(fields=["workspace", "status", "created_at"], name="job_workspace_list_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["unique_key"],
                condition=Q(status="queued"),
                name="job_unique_queued_key",
            )
        ]

    def __str__(self):
        return f"{self.kind} #{self.pk}"

    @property
    def can_retry(self) -> bool:
        return self.status == JobStatus.FAILED

    @property
    def error_summary(self) -> str:
        """The exception line of ``last_error`` (the traceback follows it)."""
        return self.last_error.split("\n", 1)[0]


class ScheduleEntry(models.Model):
    """The state of one entry of ``tend/schedule.py``: when it runs next.

    Schedulers claim a due entry by moving ``next_run_at`` forward with a conditional
    update that names the value they read, so two schedulers never enqueue one run twice.
    """

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=100)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_job_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "schedule entries"

    def __str__(self):
        return self.name
