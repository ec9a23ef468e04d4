"""Tenancy: workspaces, the people who use Tend (members), teams and API tokens."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person who logs in to Tend. Signs in with an email; belongs to workspaces as a member."""

    username = None
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=200, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    def __str__(self):
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]


def new_ingest_key() -> str:
    """Kept for migration 0001, which gave workspaces an ingest key before ingestion used
    API tokens with the ``ingest`` scope."""
    return "ik_" + secrets.token_urlsafe(18)


class Workspace(models.Model):
    """One tenant. Every customer record belongs to exactly one workspace."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name


class Seat(models.TextChoices):
    ADMIN = "admin", "Admin"
    PRACTITIONER = "practitioner", "Practitioner"
    CONTRIBUTOR = "contributor", "Contributor"
    VIEWER = "viewer", "Viewer"


SEAT_HELP = {
    Seat.ADMIN: "Everything, including the data model, members and API tokens.",
    Seat.PRACTITIONER: "Full use of accounts, people and work; no workspace settings.",
    Seat.CONTRIBUTOR: "Adds tasks and touchpoints; edits the accounts assigned to them; reads the rest.",
    Seat.VIEWER: "Reads everything, changes nothing.",
}


class Member(models.Model):
    """A user's seat in one workspace."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    seat = models.CharField(max_length=20, choices=Seat.choices, default=Seat.PRACTITIONER)
    is_active = models.BooleanField(default=True)
    title = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="member_unique_user")]
        ordering = ["user__full_name", "user__email"]

    def __str__(self):
        return str(self.user)

    @property
    def name(self) -> str:
        return self.user.display_name

    @property
    def is_admin(self) -> bool:
        return self.seat == Seat.ADMIN

    @property
    def can_write(self) -> bool:
        """Full write access to customer data (admin and practitioner seats)."""
        return self.seat in (Seat.ADMIN, Seat.PRACTITIONER)

    @property
    def can_contribute(self) -> bool:
        """May add tasks and touchpoints and edit assigned accounts."""
        return self.seat != Seat.VIEWER


class Team(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=120)
    members = models.ManyToManyField(Member, related_name="teams", blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="team_unique_name")]
        ordering = ["name"]

    def __str__(self):
        return self.name


class Scope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    ADMIN = "admin", "Admin"
    INGEST = "ingest", "Ingest"


TOKEN_PREFIX = "tend_"


def hash_token(raw: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is safe and keeps auth cheap.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A workspace's credential for programs. Only its hash is stored; the token is shown once."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise the token.")
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(models.Manager.from_queryset(ApiTokenQuerySet), workspace="workspace")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        # admin implies write implies read; ingest stands alone.
        granted = set(self.scopes)
        if scope == Scope.READ:
            return bool(granted & {Scope.READ, Scope.WRITE, Scope.ADMIN})
        if scope == Scope.WRITE:
            return bool(granted & {Scope.WRITE, Scope.ADMIN})
        return scope in granted


class IdempotencyKey(models.Model):
    """The first response to a POST sent with an ``Idempotency-Key`` header, replayed for repeats.

    A row is written before the request runs (``status_code`` empty) so that a concurrent
    repeat sees the key as taken; it is filled in with the response, or deleted when the
    request fails with a server error so that the client may retry.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="idempotency_unique_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self):
        return self.key
