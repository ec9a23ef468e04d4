"""Finding follows and rules for an actor (the access chokepoints of this app)."""

import datetime

from django.db.models import Count, Q
from django.utils import timezone

from tend.alerts.models import AlertFiring, AlertRule, FiringStatus, Follow
from tend.workspaces.access import READ, get_for


def rule_for(actor, rule_id, right: str = READ) -> AlertRule:
    return get_for(actor, AlertRule, right, pk=rule_id)


def follows_of(member):
    return Follow.objects.filter(workspace_id=member.workspace_id, member=member)


def is_following(member, *, account=None, segment=None) -> bool:
    if member is None:
        return False
    target = {"account": account} if account is not None else {"segment": segment}
    return follows_of(member).filter(**target).exists()


def firing_counts(workspace, rule_ids, hours: int = 24) -> dict[int, dict]:
    """{rule id: {"sent": n, "suppressed": n}} over the last ``hours``, in one query."""
    since = timezone.now() - datetime.timedelta(hours=hours)
    rows = (
        AlertFiring.objects.filter(workspace=workspace, rule_id__in=rule_ids, at__gte=since)
        .values("rule_id")
        .annotate(
            sent=Count("id", filter=Q(status=FiringStatus.SENT)),
            suppressed=Count("id", filter=Q(status=FiringStatus.SUPPRESSED)),
        )
        .order_by()
    )
    return {r["rule_id"]: {"sent": r["sent"], "suppressed": r["suppressed"]} for r in rows}
