"""The plays app's background jobs: polling triggers and advancing due runs."""

from django.utils import timezone
from django_scopes import scope

from tend.jobs.registry import enqueue, job
from tend.plays.engine import ADVANCE_JOB, advance_due
from tend.plays.models import OPEN_RUN_STATUSES, Play, PlayRun, PlayStatus
from tend.plays.polling import poll_workspace
from tend.plays.signals import POLL_JOB
from tend.workspaces.models import Workspace


@job("plays.poll", max_attempts=3, lease_seconds=120)
def poll(job_row) -> None:
    """Every few seconds: one poll job per workspace with an active play, and an advance job
    per workspace with a run that came due (a wait ended, a retry is due)."""
    now = timezone.now()
    active = (
        Play.objects.filter(status=PlayStatus.ACTIVE)
        .values_list("workspace_id", flat=True)
        .distinct()
    )
    for workspace_id in sorted(set(active)):
        with scope(workspace=workspace_id):
            enqueue(
                POLL_JOB,
                {"workspace_id": workspace_id},
                workspace_id=workspace_id,
                unique_key=f"{POLL_JOB}:{workspace_id}",
            )
            due = PlayRun.objects.filter(
                workspace_id=workspace_id,
                status__in=OPEN_RUN_STATUSES,
                next_due_at__lte=now,
                play__status=PlayStatus.ACTIVE,
            ).exists()
            if due:
                enqueue(
                    ADVANCE_JOB,
                    {"workspace_id": workspace_id},
                    workspace_id=workspace_id,
                    unique_key=f"{ADVANCE_JOB}:{workspace_id}",
                )


@job(POLL_JOB, max_attempts=3, lease_seconds=300)
def poll_one_workspace(job_row) -> None:
    poll_workspace(Workspace.objects.get(pk=job_row.payload["workspace_id"]))


@job(ADVANCE_JOB, max_attempts=5, lease_seconds=300)
def advance(job_row) -> None:
    """Advance due runs. Idempotent: each run is claimed with a lease, and each step gets a
    stable key (``tend.plays.engine``)."""
    advance_due(job_row.payload["workspace_id"])
