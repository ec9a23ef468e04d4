"""The health app's background jobs: scoring workspaces whose inputs changed."""

from django.db.models import Max
from django.utils import timezone

from tend.accounts.models import Account
from tend.health import sources
from tend.health.actions.profiles import RESCORE_JOB
from tend.health.actions.scoring import score_workspace
from tend.health.models import HealthProfile, HealthState
from tend.jobs.registry import job
from tend.usage.models import AccountUsage, MetricValue
from tend.workspaces.models import Workspace


@job(RESCORE_JOB, max_attempts=3, lease_seconds=900)
def rescore(job_row) -> None:
    """Score one workspace now (asked for by a profile change or ``POST /health/recompute``)."""
    workspace = Workspace.objects.get(pk=job_row.payload["workspace_id"])
    score_workspace(workspace)


@job("health.rescore_changed", max_attempts=3, lease_seconds=900)
def rescore_changed(job_row) -> None:
    """Every workspace whose health inputs changed since it was last scored, or whose local
    day moved on (dates such as a renewal draw nearer at midnight), is scored again. Runs
    every 30 seconds, so a rank follows new usage within a minute of the rollup."""
    for workspace in Workspace.objects.all():
        if needs_scoring(workspace):
            score_workspace(workspace)


def latest_input_change(workspace: Workspace):
    """The newest change to anything health reads: usage metrics, accounts, custom metrics,
    profiles. Each is one index lookup."""
    stamps = [
        AccountUsage.objects.filter(workspace=workspace).aggregate(at=Max("refreshed_at"))["at"],
        Account.objects.filter(workspace=workspace).aggregate(at=Max("updated_at"))["at"],
        MetricValue.objects.filter(workspace=workspace).aggregate(at=Max("updated_at"))["at"],
        HealthProfile.objects.filter(workspace=workspace).aggregate(at=Max("updated_at"))["at"],
    ]
    return max((s for s in stamps if s is not None), default=None)


def needs_scoring(workspace: Workspace, now=None) -> bool:
    state = HealthState.objects.filter(workspace=workspace).first()
    if state is None or state.scored_at is None:
        return True
    if state.scored_day != sources.local_today(workspace, now or timezone.now()):
        return True
    latest = latest_input_change(workspace)
    return latest is not None and latest > state.scored_at
