"""The segments app's background jobs: keeping dynamic segments fresh, daily counts, and
scorecard cards' daily values."""

from django.utils import timezone
from django_scopes import scope

from tend.jobs.registry import enqueue, job
from tend.segments.actions.evaluation import (
    REFRESH_JOB,
    has_due_segments,
    prune_orphans,
    record_counts,
    refresh_segments,
)
from tend.segments.actions.scorecards import record_card_values
from tend.segments.models import Segment, SegmentKind
from tend.workspaces.models import Workspace


@job("segments.refresh_due", max_attempts=3, lease_seconds=300)
def refresh_due(job_row) -> None:
    """Every 15 seconds: queue a refresh of each workspace that has a dynamic segment due
    (stale, or its data changed). One job per workspace, so workers share them and one
    workspace's failure holds up no other; a refresh already queued absorbs this one."""
    now = timezone.now()
    with_dynamic = (
        Segment.objects.filter(kind=SegmentKind.DYNAMIC)
        .values_list("workspace_id", flat=True)
        .distinct()
    )
    for workspace in Workspace.objects.filter(pk__in=with_dynamic).order_by("pk"):
        with scope(workspace=workspace.pk):
            if has_due_segments(workspace, now):
                enqueue(
                    REFRESH_JOB,
                    {"workspace_id": workspace.pk},
                    workspace_id=workspace.pk,
                    unique_key=f"{REFRESH_JOB}:{workspace.pk}",
                )


@job(REFRESH_JOB, max_attempts=3, lease_seconds=900)
def refresh(job_row) -> None:
    """Evaluate one workspace's due dynamic segments. Idempotent: evaluation stores each
    entry and exit once, however many workers run it (see ``evaluate_segment``)."""
    refresh_segments(Workspace.objects.get(pk=job_row.payload["workspace_id"]))


@job("segments.record_counts", max_attempts=3, lease_seconds=900)
def record_all_counts(job_row) -> None:
    """Hourly: today's member count of every segment, in each workspace's own day, and the
    membership rows of deleted accounts pruned. Upserts, so a second run changes nothing."""
    for workspace in Workspace.objects.order_by("pk"):
        with scope(workspace=workspace.pk):
            prune_orphans(workspace)
            record_counts(workspace)


@job("segments.record_card_values", max_attempts=3, lease_seconds=900)
def record_all_card_values(job_row) -> None:
    """Hourly: today's value of every scorecard card, in each workspace's own day, for the
    cards' trends. Upserts, so a second run the same day keeps the day's last value."""
    for workspace in Workspace.objects.order_by("pk"):
        with scope(workspace=workspace.pk):
            record_card_values(workspace)
