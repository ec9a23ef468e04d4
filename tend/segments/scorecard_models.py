"""Scorecards: sets of KPI cards, each a figure about a set of accounts against a target.

* :class:`Scorecard` — a named, ordered set of cards; **private** (its owner sees it) or
  **shared** (every member), like segments.
* :class:`KpiCard` — one figure. Its accounts are a segment's members or the accounts its
  own condition matches (all accounts when it has neither); its **kind** says what is
  counted: how many (``count``), what share of a base (``percentage``: of all accounts,
  of paying ones, or of another segment's), or the ``sum`` / ``average`` of a number field
  over them. A **target** with a direction (at least / at most) and a **tolerance** give
  its status: see :func:`tend.segments.kpis.status_of` and docs/segments.md.
* :class:`KpiValue` — a card's value on one local day of its workspace (the last of the
  day), recorded by the hourly job, for the trend.

Imported at the end of ``tend/segments/models.py`` so Django finds them with the app's
other models; the segments core owns that module.
"""

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from tend.segments.models import Segment, Visibility
from tend.workspaces.models import Member, Workspace


class CardKind(models.TextChoices):
    COUNT = "count", "Count of accounts"
    PERCENTAGE = "percentage", "Percentage of a base"
    SUM = "sum", "Sum of a field"
    AVERAGE = "average", "Average of a field"


class Source(models.TextChoices):
    """Where a card's (or a saved view's) accounts come from."""

    ALL = "all", "All accounts"
    SEGMENT = "segment", "A segment"
    CONDITION = "condition", "A condition"


class Base(models.TextChoices):
    """What a percentage card divides by."""

    ALL = "all", "All accounts"
    PAYING = "paying", "Paying accounts"
    SEGMENT = "segment", "A segment"


class Direction(models.TextChoices):
    AT_LEAST = "at_least", "At least"
    AT_MOST = "at_most", "At most"


class ScorecardQuerySet(models.QuerySet):
    def visible_to(self, member: Member | None, *, everything: bool = False):
        """Shared scorecards and ``member``'s private ones (``everything``: the system's)."""
        if everything:
            return self
        if member is None:
            return self.filter(visibility=Visibility.SHARED)
        return self.filter(
            models.Q(visibility=Visibility.SHARED)
            | models.Q(visibility=Visibility.PRIVATE, owner=member)
        )


class Scorecard(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=500, blank=True)
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    owner = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Which built-in scorecard this is ("customer_intelligence"), so installing it again
    # finds it instead of making a second; empty for scorecards people make.
    template = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(models.Manager.from_queryset(ScorecardQuerySet), workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="scorecard_unique_name"),
            models.UniqueConstraint(
                fields=["workspace", "template"],
                condition=~models.Q(template=""),
                name="scorecard_unique_template",
            ),
        ]
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    @property
    def is_private(self) -> bool:
        return self.visibility == Visibility.PRIVATE


class KpiCard(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="cards")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=120)
    description = models.CharField(max_length=500, blank=True)
    kind = models.CharField(max_length=10, choices=CardKind.choices, default=CardKind.COUNT)
    # The accounts: a segment's members, a condition's matches, or every account. A deleted
    # segment leaves the card without a value until another is chosen (it says why) rather
    # than deleting the card, refusing to delete the segment or widening to every account.
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ALL)
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    condition = models.JSONField(null=True, blank=True)
    base = models.CharField(max_length=8, choices=Base.choices, default=Base.ALL)
    base_segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The number field a sum or average reads (a condition catalog name).
    field = models.CharField(max_length=200, blank=True)
    target = models.FloatField(null=True, blank=True)
    direction = models.CharField(
        max_length=8, choices=Direction.choices, default=Direction.AT_LEAST
    )
    # How far past the target a value is "at risk" rather than "off track", in the card's
    # unit (accounts, percentage points, the field's unit).
    tolerance = models.FloatField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["scorecard", "position"], name="kpi_card_order")]

    def __str__(self):
        return self.title

    @property
    def is_plain_count(self) -> bool:
        """Its value is a segment's member count, recorded day by day as ``SegmentCount``."""
        return (
            self.kind == CardKind.COUNT
            and self.source == Source.SEGMENT
            and self.segment_id is not None
        )


class KpiValue(models.Model):
    """A card's value on one local day of its workspace (the last value of the day)."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    # The unique (card, day) key serves the card's lookups.
    card = models.ForeignKey(
        KpiCard, on_delete=models.CASCADE, db_index=False, related_name="values"
    )
    day = models.DateField()
    value = models.FloatField()

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["card", "day"], name="kpi_value_unique_day"),
        ]
        ordering = ["day"]

    def __str__(self):
        return f"card {self.card_id} on {self.day}: {self.value}"
