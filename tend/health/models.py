"""Health: profiles and their versions, each account's current health, its history, and the
changes of rank that plays and the timeline react to.

Scores are computed by :mod:`tend.health.scoring` from metric values that
:mod:`tend.health.sources` reads (usage metrics, attributes, custom metrics).

The tables a scoring writes in bulk — ``AccountHealth``, ``HealthSnapshot`` and
``HealthChange`` — have no foreign-key constraints in the database (``db_constraint=False``),
as the bulk usage tables: on PostgreSQL each would be a deferred trigger per row at commit
(docs/decisions.md). Deleting an account, a profile or a workspace still cascades to them (or
sets null) through the ORM, and a scoring removes the health of accounts deleted meanwhile.
"""

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from tend.accounts.models import Account
from tend.workspaces.models import Member, Workspace


def scoped():
    return ScopedManager(workspace="workspace")


class Rank(models.TextChoices):
    GOOD = "good", "Good"
    AVERAGE = "average", "Average"
    POOR = "poor", "Poor"


class HealthProfile(models.Model):
    """How a group of accounts is scored. Profiles are tried in ``position`` order; the first
    whose condition an account meets scores it, and the default profile scores the rest."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=500, blank=True)
    position = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(default=False)
    # A condition in the shared condition language (docs/conditions.md); None for the default.
    condition = models.JSONField(null=True, blank=True)
    current_version = models.ForeignKey(
        "ProfileVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = scoped()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"], name="health_profile_unique_name"
            ),
            models.UniqueConstraint(
                fields=["workspace"],
                condition=models.Q(is_default=True),
                name="health_profile_one_default",
            ),
        ]
        ordering = ["-is_default", "position", "name"]

    def __str__(self):
        return self.name


class ProfileVersion(models.Model):
    """A saved state of a profile's definition. Saving makes a new version; scores remember
    the version that produced them; rolling back saves an old definition as a new version."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    profile = models.ForeignKey(HealthProfile, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = scoped()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "number"], name="health_version_unique_number"
            )
        ]
        ordering = ["-number"]

    def __str__(self):
        return f"{self.profile_id} v{self.number}"


class AccountHealth(models.Model):
    """An account's health now: its score, rank and dimension scores, and what produced them."""

    account = models.OneToOneField(
        Account,
        db_constraint=False,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="health",
    )
    workspace = models.ForeignKey(
        Workspace, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    profile = models.ForeignKey(
        HealthProfile, db_constraint=False, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.ForeignKey(
        ProfileVersion, db_constraint=False, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.FloatField(null=True, blank=True)
    rank = models.CharField(max_length=8, choices=Rank.choices, null=True, blank=True)
    dimensions = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)
    rank_since = models.DateTimeField(default=timezone.now)

    objects = scoped()

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "rank"], name="health_account_rank"),
            models.Index(fields=["workspace", "score"], name="health_account_score"),
        ]

    def __str__(self):
        return f"health of account {self.account_id}: {self.rank}"


class HealthSnapshot(models.Model):
    """An account's health on a local day, written when it changes: the state on any day is
    the latest snapshot on or before it. The last of a day's changes is kept."""

    workspace = models.ForeignKey(
        Workspace, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    account = models.ForeignKey(
        Account, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    day = models.IntegerField(help_text="Local day number (days since 1970-01-01).")
    score = models.FloatField(null=True, blank=True)
    rank = models.CharField(max_length=8, choices=Rank.choices, null=True, blank=True)
    dimensions = models.JSONField(default=dict, blank=True)
    version = models.ForeignKey(
        ProfileVersion, db_constraint=False, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = scoped()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="health_snapshot_unique_day")
        ]
        indexes = [models.Index(fields=["workspace", "day"], name="health_snapshot_day")]

    def __str__(self):
        return f"account {self.account_id} day {self.day}: {self.rank}"


class HealthChange(models.Model):
    """An account's rank changed: what plays, alerts and the timeline react to."""

    # Indexed by the two indexes below, which lead with them.
    workspace = models.ForeignKey(
        Workspace, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    account = models.ForeignKey(
        Account, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    from_rank = models.CharField(max_length=8, choices=Rank.choices, null=True, blank=True)
    to_rank = models.CharField(max_length=8, choices=Rank.choices, null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    version = models.ForeignKey(
        ProfileVersion, db_constraint=False, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    objects = scoped()

    class Meta:
        indexes = [
            models.Index(fields=["account", "-changed_at"], name="health_change_account"),
            models.Index(fields=["workspace", "-changed_at"], name="health_change_recent"),
        ]
        ordering = ["-changed_at", "-id"]

    def __str__(self):
        return f"account {self.account_id}: {self.from_rank} → {self.to_rank}"


class HealthState(models.Model):
    """When a workspace was last scored, and the newest input change that scoring saw: the
    rescoring job scores a workspace again when an input is newer, or the local day moved
    (days to renewal change at midnight)."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    scored_at = models.DateTimeField(null=True, blank=True)
    scored_day = models.IntegerField(null=True, blank=True)
    inputs_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True, help_text="How long the last scoring took.")

    objects = scoped()

    def __str__(self):
        return f"health state of workspace {self.workspace_id}"
