"""Scheduled SFTP sources (docs/imports.md, "SFTP sources"): where to fetch files from, and
every remote file seen there with what became of it.

Credentials (a password or a private key) are sealed with ``tend.lib.sealing`` and never
shown back. The server's host key is trusted on first use: its SHA-256 fingerprint is stored
at the first successful connection, and a server presenting another key afterwards is
refused before any credential is sent (docs/decisions.md, "SFTP host keys").
"""

from datetime import UTC, datetime, timedelta

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from tend.hub.models import Import, ImportObject, SavedMapping
from tend.lib.sealing import seal, unseal
from tend.workspaces.models import Member, Workspace

MIN_EVERY_MINUTES = 5
MAX_EVERY_MINUTES = 7 * 24 * 60


class AfterImport(models.TextChoices):
    ARCHIVE = "archive", "Move it to the archive folder"
    LEAVE = "leave", "Leave it where it is"


class AuthMethod(models.TextChoices):
    PASSWORD = "password", "Password"
    KEY = "key", "Private key"


class PollStatus(models.TextChoices):
    NEVER = "never", "Not polled yet"
    OK = "ok", "OK"
    FAILED = "failed", "Failed"


class SftpLogin(models.Model):
    """Where and how to log in to an SFTP server, shared by sources (imports) and scheduled
    exports (``tend.hub.export_schedules``): the secret in use sealed, the host key trusted on
    first use."""

    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(default=22)
    username = models.CharField(max_length=255)
    auth_method = models.CharField(
        max_length=10, choices=AuthMethod.choices, default=AuthMethod.PASSWORD
    )
    # Sealed with tend.lib.sealing (Fernet, keys from TEND_SECRETS_KEYS); "" when not set.
    password_sealed = models.TextField(blank=True)
    private_key_sealed = models.TextField(blank=True)
    # Trust on first use: the fingerprint (SHA256:…) of the first host key seen.
    host_key_fingerprint = models.CharField(max_length=100, blank=True)
    host_key_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def password(self) -> str:
        return unseal(self.password_sealed) if self.password_sealed else ""

    @password.setter
    def password(self, value: str) -> None:
        self.password_sealed = seal(value) if value else ""

    @property
    def private_key(self) -> str:
        return unseal(self.private_key_sealed) if self.private_key_sealed else ""

    @private_key.setter
    def private_key(self, value: str) -> None:
        self.private_key_sealed = seal(value) if value else ""

    @property
    def has_password(self) -> bool:
        return bool(self.password_sealed)

    @property
    def has_private_key(self) -> bool:
        return bool(self.private_key_sealed)

    @property
    def has_secret(self) -> bool:
        return self.has_password if self.auth_method == AuthMethod.PASSWORD else self.has_private_key

    @property
    def address(self) -> str:
        return f"{self.username}@{self.host}:{self.port}"


class SftpSource(SftpLogin):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    folder = models.CharField(max_length=500, default=".", help_text="The remote folder polled.")
    pattern = models.CharField(
        max_length=200, default="*.csv", help_text="A glob the file names must match."
    )
    object = models.CharField(max_length=10, choices=ImportObject.choices)
    # RESTRICT: a mapping in use cannot be deleted alone, but goes with its workspace.
    mapping = models.ForeignKey(SavedMapping, on_delete=models.RESTRICT, related_name="+")
    source_name = models.CharField(
        max_length=40, default="SFTP", help_text="The imports' source, for sources of truth."
    )
    after_import = models.CharField(
        max_length=8, choices=AfterImport.choices, default=AfterImport.ARCHIVE
    )
    archive_folder = models.CharField(max_length=500, blank=True)
    every_minutes = models.PositiveIntegerField(default=15)
    enabled = models.BooleanField(default=True)
    # Polling.
    next_poll_at = models.DateTimeField(default=timezone.now)
    polling_until = models.DateTimeField(
        null=True, blank=True, help_text="A poll's claim on this source."
    )
    poll_claim = models.CharField(max_length=64, blank=True)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_poll_status = models.CharField(
        max_length=8, choices=PollStatus.choices, default=PollStatus.NEVER
    )
    last_error = models.TextField(blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(
        default=0, help_text="Failed polls since the last good one."
    )
    failing_since = models.DateTimeField(null=True, blank=True)
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
                fields=["workspace", "name"], name="hub_sftp_source_unique_name"
            ),
        ]
        indexes = [models.Index(fields=["enabled", "next_poll_at"], name="hub_sftp_source_due_idx")]

    def __str__(self):
        return self.name

    @property
    def every(self) -> timedelta:
        return timedelta(minutes=self.every_minutes)

    @property
    def badge(self) -> str:
        """The badge style of the last poll's status (the shared badge colours)."""
        return {PollStatus.OK: "succeeded", PollStatus.FAILED: "failed"}.get(
            self.last_poll_status, "draft"
        )


class RemoteFileState(models.TextChoices):
    WAITING = "waiting", "Waiting until complete"
    IMPORTED = "imported", "Imported"
    DUPLICATE = "duplicate", "Already imported (same content)"
    REJECTED = "rejected", "Not importable"


DONE_STATES = (RemoteFileState.IMPORTED, RemoteFileState.DUPLICATE, RemoteFileState.REJECTED)


class RemoteFile(models.Model):
    """One version of a remote file: a path with a size and modification time. A file written
    again under the same name after it was imported is a new row."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(SftpSource, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=1000)
    size = models.BigIntegerField()
    mtime = models.BigIntegerField(help_text="Modification time on the server, epoch seconds.")
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    # When the size and mtime above were first seen (a change starts the wait again).
    stable_since = models.DateTimeField(default=timezone.now)
    sha256 = models.CharField(max_length=64, blank=True)
    state = models.CharField(
        max_length=10, choices=RemoteFileState.choices, default=RemoteFileState.WAITING
    )
    import_run = models.ForeignKey(
        Import, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    archived_to = models.CharField(max_length=1000, blank=True)
    error = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        ordering = ["-first_seen_at", "-id"]
        constraints = [
            # One import per content per source, whatever the file was called.
            models.UniqueConstraint(
                fields=["source", "sha256"],
                condition=models.Q(state="imported"),
                name="hub_sftp_file_content_once",
            ),
        ]
        indexes = [models.Index(fields=["source", "path"], name="hub_sftp_file_path_idx")]

    def __str__(self):
        return self.path

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def badge(self) -> str:
        return {
            RemoteFileState.WAITING: "queued", RemoteFileState.IMPORTED: "succeeded",
            RemoteFileState.DUPLICATE: "draft", RemoteFileState.REJECTED: "failed",
        }[self.state]  # fmt: skip

    @property
    def modified(self):
        return datetime.fromtimestamp(self.mtime, UTC)
