"""Saved views: a set of accounts shown with chosen columns in a chosen order.

A view's accounts are a segment's members, or the accounts its own condition matches, or
every account when it has neither. Its **columns** and **sort** are condition catalog field
names (``status``, ``attributes.plan``, ``usage.last_seen``, ``health.score`` …), the same
names the search API's ``fields`` and ``sort`` and the export's ``fields`` take, so a view
reads, sorts and exports any field the condition language knows, whatever app adds it.
Private (its owner sees it) or shared, like segments.

Imported at the end of ``tend/segments/models.py`` so Django finds it with the app's other
models; the segments core owns that module.
"""

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from tend.segments.models import Segment, Visibility
from tend.segments.scorecard_models import Source
from tend.workspaces.models import Member, Workspace


class SavedViewQuerySet(models.QuerySet):
    def visible_to(self, member: Member | None, *, everything: bool = False):
        """Shared views and ``member``'s private ones (``everything``: the system's)."""
        if everything:
            return self
        if member is None:
            return self.filter(visibility=Visibility.SHARED)
        return self.filter(
            models.Q(visibility=Visibility.SHARED)
            | models.Q(visibility=Visibility.PRIVATE, owner=member)
        )


class SavedView(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=500, blank=True)
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    owner = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A deleted segment leaves the view listing nothing until another is chosen (the page
    # says why), rather than silently widening it to every account.
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    condition = models.JSONField(null=True, blank=True)
    # Where the accounts come from; "segment" with no segment left means it was deleted.
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ALL)
    columns = models.JSONField(default=list)  # catalog field names, in order
    sort = models.JSONField(default=list)  # ["-usage.last_seen", "name"]: "-" descending
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(models.Manager.from_queryset(SavedViewQuerySet), workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="saved_view_unique_name"),
        ]
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    @property
    def is_private(self) -> bool:
        return self.visibility == Visibility.PRIVATE
