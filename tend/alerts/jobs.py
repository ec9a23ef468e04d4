"""The alerts app's background jobs: polling rules, posting to Slack."""

import datetime

from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from tend.alerts.engine import SLACK_JOB, poll_workspace
from tend.alerts.models import AlertFiring, AlertRule
from tend.alerts.signals import POLL_JOB, enqueue_poll
from tend.jobs.registry import job
from tend.lib.outgoing import escape_text, post_to_slack
from tend.workspaces.models import Workspace


@job("alerts.poll", max_attempts=3, lease_seconds=120)
def poll(job_row) -> None:
    """Every few seconds: one poll job per workspace with an active alert rule."""
    active = AlertRule.objects.filter(is_active=True).values_list("workspace_id", flat=True)
    for workspace_id in sorted(set(active)):
        with scope(workspace=workspace_id):
            enqueue_poll(workspace_id)


@job(POLL_JOB, max_attempts=3, lease_seconds=300)
def poll_one_workspace(job_row) -> None:
    poll_workspace(Workspace.objects.get(pk=job_row.payload["workspace_id"]))


KEEP_FIRINGS = datetime.timedelta(days=90)


@job("alerts.purge_firings", max_attempts=3, lease_seconds=600)
def purge_firings(job_row) -> None:
    """Firings older than ``KEEP_FIRINGS`` go: the rate limit reads the last hour, and a
    change that old was read past by every rule's cursor long ago, so its key guards
    nothing any more. Deleted in batches, so no single transaction grows large."""
    cutoff = timezone.now() - KEEP_FIRINGS
    while True:
        ids = list(AlertFiring.objects.filter(at__lt=cutoff).values_list("id", flat=True)[:5000])
        if not ids:
            return
        AlertFiring.objects.filter(pk__in=ids).delete()


class SlackRetry(Exception):
    pass


@job(SLACK_JOB, max_attempts=5, lease_seconds=120)
def post_slack(job_row) -> None:
    """Post one firing to the rule's Slack channel; once posted, never again (its outcome
    says so). A refusal is recorded; a transient failure raises, and the job is retried."""
    firing = (
        AlertFiring.objects.select_related("rule", "account")
        .filter(pk=job_row.payload["firing_id"])
        .first()
    )
    if firing is None or firing.outcome.startswith("posted") or not firing.rule.slack_url:
        return
    name = firing.account.name if firing.account else "an account"
    text = f"*{escape_text(firing.rule.name)}*: {escape_text(name)} — {escape_text(firing.cause)}"
    result = post_to_slack(firing.rule.slack_url, text)
    outcome = "posted" if result.delivered else result.reason[:480]
    with transaction.atomic():
        AlertFiring.objects.filter(pk=firing.pk).update(outcome=outcome)
    if result.should_retry:
        raise SlackRetry(result.reason)
