"""The data hub's rows: an import (one file, one mapping, one run and its report), the
rows it rejected, the mappings saved by name, and which source owns which attribute."""

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from tend.workspaces.models import Member, Workspace


def scoped():
    return ScopedManager(workspace="workspace")


class ImportObject(models.TextChoices):
    ACCOUNT = "account", "Accounts"
    USER = "user", "End users"
    CONTACT = "contact", "Contacts"
    # Records registered by the apps that own them (tend/hub/objects.py).
    USAGE = "usage", "Usage (daily totals)"
    METRIC = "metric", "Custom metric values"
    TASK = "task", "Tasks"
    TOUCHPOINT = "touchpoint", "Touchpoints"
    ASSIGNMENT = "assignment", "Assignments"


# The objects with attributes, sources of truth and one external id as their key.
ATTRIBUTE_OBJECTS = (ImportObject.ACCOUNT, ImportObject.USER, ImportObject.CONTACT)


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"


class UnknownColumns(models.TextChoices):
    IGNORE = "ignore", "Ignore them"
    CREATE = "create", "Create a text attribute for each"


class ImportStatus(models.TextChoices):
    DRAFT = "draft", "Mapping"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Done with rejected rows"
    FAILED = "failed", "Failed"


FINISHED = (ImportStatus.SUCCEEDED, ImportStatus.PARTIAL, ImportStatus.FAILED)


class Import(models.Model):
    """One file imported (or dry-run) once.

    The file stays on disk under ``TEND_IMPORT_DIR`` (``stored_name``); a dry run and the real
    run that follows it are two rows sharing the file, so each keeps its own report.
    ``rows_done`` is the resume point: the number of data rows whose outcome is committed,
    moved in the same transaction as those rows' writes (see ``tend.hub.running``).
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    object = models.CharField(max_length=10, choices=ImportObject.choices)
    source = models.CharField(
        max_length=40, default="CSV import",
        help_text="Who the data comes from; attributes owned by another source are not overwritten.",
    )
    dry_run = models.BooleanField(default=False)
    dry_run_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="For a real run started from a dry run's report: that dry run.",
    )
    status = models.CharField(max_length=12, choices=ImportStatus.choices, default=ImportStatus.DRAFT)
    # The file.
    file_name = models.CharField(max_length=255)
    stored_name = models.CharField(max_length=255)
    size = models.BigIntegerField(default=0)
    format = models.CharField(max_length=5, choices=FileFormat.choices)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=2, blank=True)
    sheet = models.CharField(max_length=120, blank=True)
    sheets = models.JSONField(default=list, blank=True)
    headers = models.JSONField(default=list, blank=True)
    # The mapping: column header → field ("" ignores it); see tend.hub.mapping.
    mapping = models.JSONField(default=dict, blank=True)
    unknown_columns = models.CharField(
        max_length=8, choices=UnknownColumns.choices, default=UnknownColumns.IGNORE
    )
    # Progress and report.
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    notes = models.JSONField(default=list, blank=True, help_text="Whole-file remarks, e.g. columns not written.")
    error = models.TextField(blank=True)
    job_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = scoped()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "created_at"], name="hub_import_list_idx")]

    def __str__(self):
        return f"Import #{self.pk} {self.file_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 100 if self.is_finished else 0
        return min(100, round(100 * self.rows_done / self.rows_total))

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None

    @property
    def key_column(self) -> str | None:
        return next((c for c, f in self.mapping.items() if f == "external_id"), None)


class RejectedRow(models.Model):
    """One data row an import did not write, with its cells and why."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    import_run = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="rejections")
    row_number = models.PositiveIntegerField(help_text="The row's number in the file, the header being row 1.")
    key = models.CharField(max_length=255, blank=True)
    reason = models.TextField()
    cells = models.JSONField(default=list)

    objects = scoped()

    class Meta:
        ordering = ["row_number"]
        constraints = [
            models.UniqueConstraint(fields=["import_run", "row_number"], name="hub_rejected_row_once"),
        ]

    def __str__(self):
        return f"row {self.row_number}: {self.reason}"


class SavedMapping(models.Model):
    """A mapping kept by name for the next file of the same shape."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    object = models.CharField(max_length=10, choices=ImportObject.choices)
    name = models.CharField(max_length=80)
    columns = models.JSONField(default=dict)
    unknown_columns = models.CharField(
        max_length=8, choices=UnknownColumns.choices, default=UnknownColumns.IGNORE
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = scoped()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "object", "name"], name="hub_mapping_unique_name"),
        ]

    def __str__(self):
        return self.name


class FieldOwner(models.Model):
    """Source of truth for one attribute: only imports from ``source`` write it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    object = models.CharField(max_length=10, choices=ImportObject.choices)
    key = models.CharField(max_length=63)
    source = models.CharField(max_length=40)

    objects = scoped()

    class Meta:
        ordering = ["object", "key"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "object", "key"], name="hub_field_owner_once"),
        ]

    def __str__(self):
        return f"{self.object}.{self.key} owned by {self.source}"


# SFTP sources (tend/hub/sftp/) and scheduled exports (tend/hub/export_schedules/) live in
# their own modules; imported here so Django sees them.
from tend.hub.export_schedules.models import ExportRun, ExportSchedule  # noqa: E402, F401
from tend.hub.sftp.models import RemoteFile, SftpSource  # noqa: E402, F401
