"""Segments: saved conditions (dynamic) or saved lists (static) of accounts, who is in each
now, every entry and exit, and the member count day by day.

* :class:`Segment` — the definition. A **dynamic** segment holds the accounts its condition
  matches (re-evaluated by ``tend.segments.actions.evaluation``); a **static** one the
  accounts added to it by hand, by an import or by a play. **Private** segments are seen by
  their owner only; **shared** ones by every member of the workspace.
* :class:`SegmentMember` — current membership, one row per (segment, account).
* :class:`SegmentChange` — one row per entry and exit: what plays, alerts and the timeline
  read. A lower app never reads it; upper ones do.
* :class:`SegmentCount` — the member count on each local day (the last count of the day).

The membership and change tables are written in bulk (a first evaluation of a large segment
inserts a row per account in each), so, like the usage tables, their foreign keys carry no
database constraint: see docs/decisions.md. Deleting a segment or an account still removes
their rows through the ORM.
"""

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from tend.accounts.models import Account
from tend.workspaces.models import Member, Workspace


class SegmentKind(models.TextChoices):
    DYNAMIC = "dynamic", "Dynamic"
    STATIC = "static", "Static"


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private"
    SHARED = "shared", "Shared"


class ChangeKind(models.TextChoices):
    ENTERED = "entered", "Entered"
    LEFT = "left", "Left"


class Source(models.TextChoices):
    """What made an account enter or leave a segment."""

    CONDITION = "condition", "Condition"  # a dynamic segment's evaluation
    MEMBER = "member", "By hand"  # a member in the app
    API = "api", "API"
    IMPORT = "import", "Import"
    PLAY = "play", "Play"


class SegmentQuerySet(models.QuerySet):
    def dynamic(self):
        return self.filter(kind=SegmentKind.DYNAMIC)

    def static(self):
        return self.filter(kind=SegmentKind.STATIC)

    def visible_to(self, member: Member | None, *, everything: bool = False):
        """Shared segments and ``member``'s private ones (``everything``: the system's view)."""
        if everything:
            return self
        if member is None:
            return self.filter(visibility=Visibility.SHARED)
        return self.filter(
            models.Q(visibility=Visibility.SHARED)
            | models.Q(visibility=Visibility.PRIVATE, owner=member)
        )


class Segment(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=500, blank=True)
    kind = models.CharField(max_length=8, choices=SegmentKind.choices, default=SegmentKind.DYNAMIC)
    # A condition in the shared language (docs/conditions.md); dynamic segments only.
    condition = models.JSONField(null=True, blank=True)
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    owner = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Plays and alerts set this on the segments they watch: those are refreshed at least
    # every minute whatever the idle refresh interval is (docs/segments.md).
    used_by_automation = models.BooleanField(default=False)
    member_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # When the data the last evaluation read was read (its start), how long it took, and why
    # it failed (a stored condition gone stale: an attribute it names was deleted).
    evaluated_at = models.DateTimeField(null=True, blank=True)
    evaluation_seconds = models.FloatField(null=True, blank=True)
    evaluation_error = models.CharField(max_length=500, blank=True)
    # The last time an account entered or left: segments whose conditions name this one
    # are evaluated again after it.
    members_changed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(models.Manager.from_queryset(SegmentQuerySet), workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="segment_unique_name"),
        ]
        indexes = [models.Index(fields=["workspace", "kind"], name="segment_ws_kind")]
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    @property
    def is_dynamic(self) -> bool:
        return self.kind == SegmentKind.DYNAMIC

    @property
    def is_private(self) -> bool:
        return self.visibility == Visibility.PRIVATE


class SegmentMember(models.Model):
    """An account in a segment now. The (segment, account) key serves the members list in
    account order and the diff of an evaluation; (account, segment) the segments of one
    account (its profile, the ``segment`` condition field, deleting an account)."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    account = models.ForeignKey(
        Account,
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="segment_memberships",
    )
    entered_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "account"], name="segment_member_unique"),
        ]
        indexes = [models.Index(fields=["account", "segment"], name="segment_member_account")]

    def __str__(self):
        return f"account {self.account_id} in segment {self.segment_id}"


class SegmentChange(models.Model):
    """An account entered or left a segment: for plays (read rows after the last id seen),
    the segment's history and the account's timeline. For static segments, ``source`` and
    ``member`` say who or what added or removed it; ``reference`` names the import or play
    run."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=ChangeKind.choices)
    at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CONDITION)
    # Members are deactivated rather than deleted, so the rare SET NULL may scan.
    member = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    reference = models.CharField(max_length=100, blank=True)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        indexes = [
            models.Index(fields=["segment", "id"], name="segment_change_segment"),
            models.Index(fields=["account", "id"], name="segment_change_account"),
            models.Index(fields=["workspace", "id"], name="segment_change_recent"),
        ]
        ordering = ["-id"]

    def __str__(self):
        return f"account {self.account_id} {self.kind} segment {self.segment_id}"


class SegmentCount(models.Model):
    """A segment's member count on one local day of its workspace (the last of the day)."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, db_index=False, related_name="counts"
    )
    day = models.DateField()
    members = models.PositiveIntegerField()

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "day"], name="segment_count_unique_day"),
        ]
        ordering = ["day"]

    def __str__(self):
        return f"segment {self.segment_id} on {self.day}: {self.members}"


from tend.segments import scorecard_models, view_models  # noqa: E402, F401  (scorecards, saved views)
