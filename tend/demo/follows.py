"""What the demo team follows, and the alert rules that tell them.

Each Success Manager follows the accounts of their book that moved lately (a change of
health rank in the last two weeks) and their biggest ones, up to six, plus the shared
"Poor health, paying" segment; the admin, who logs in first, follows the six biggest
customers and the renewals segment too. So Home, the digest preview and the Following page
open with something in them.

Two alert rules, made through the alerts actions: "Health turned Poor" tells followers and
the account's Success Manager under the bell; "New paying customer" tells the admin. Like
any rule, they fire for changes from the moment they exist (none of the replayed history).
"""

import datetime

from django.db.models import Max

from tend.accounts.models import Account, Assignment, AssignmentRole
from tend.alerts.actions import create_rule, follow
from tend.demo import vocabulary as v
from tend.health.models import HealthChange
from tend.segments.models import Segment
from tend.workspaces.access import Actor
from tend.workspaces.models import Member

PER_MEMBER = 6
RECENT_DAYS = 14


def build_follows(actor: Actor, today: datetime.date) -> dict:
    """Follows and alert rules for the demo team; returns counts for the command."""
    workspace = actor.workspace
    since = datetime.datetime.combine(today - datetime.timedelta(days=RECENT_DAYS), datetime.time())
    moved = dict(
        HealthChange.objects.filter(workspace=workspace, changed_at__date__gte=since.date())
        .values("account_id")
        .annotate(last=Max("changed_at"))
        .values_list("account_id", "last")
    )
    live = {
        a.pk: a
        for a in Account.objects.filter(workspace=workspace).exclude(status="churned").only("workspace_id", "attributes")
    }
    value = {pk: (a.attributes or {}).get("contract_value") or 0 for pk, a in live.items()}
    books: dict[int, list[int]] = {}
    for account_id, member_id in Assignment.objects.filter(
        workspace=workspace, role__key="success_manager", account_id__in=list(value)
    ).values_list("account_id", "member_id"):
        books.setdefault(member_id, []).append(account_id)
    segments = {s.name: s for s in Segment.objects.filter(workspace=workspace, visibility="shared")}
    poor = segments.get("Poor health, paying")
    follows = 0
    for member in Member.objects.filter(workspace=workspace, pk__in=list(books)).order_by("pk"):
        # Lately moved first (newest first), then the biggest contracts.
        book = sorted(books[member.pk], key=lambda pk: (pk not in moved, -value[pk], pk))
        for pk in book[:PER_MEMBER]:
            follow(member, account=live[pk])
            follows += 1
        if poor is not None:
            follow(member, segment=poor)
            follows += 1
    admin = Member.objects.get(workspace=workspace, user__email=f"admin@{v.DOMAIN}")
    for pk in sorted(value, key=lambda pk: (-value[pk], pk))[:PER_MEMBER]:
        follow(admin, account=live[pk])
        follows += 1
    for name in ("Poor health, paying", "Enterprise renewing in 90 days"):
        if name in segments:
            follow(admin, segment=segments[name])
            follows += 1

    csm_role = AssignmentRole.objects.get(workspace=workspace, key="success_manager")
    create_rule(
        actor,
        {
            "name": "Health turned Poor",
            "trigger": {"kind": "health_changed", "config": {"to_rank": "poor"}},
            "roles": [csm_role.pk],
            "followers": True,
            "in_app": True,
        },
    )
    create_rule(
        actor,
        {
            "name": "New paying customer",
            "trigger": {"kind": "status_changed", "config": {"to_status": "paying"}},
            "members": [admin.pk],
            "followers": False,
            "in_app": True,
        },
    )
    return {"follows": follows, "alert_rules": 2}
