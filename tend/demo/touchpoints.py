"""The demo's touchpoints: the calls, meetings, QBRs and notes a CS team has logged on its
biggest accounts over the last three months, so the account timeline opens with the
conversations beside the tasks, play runs and health changes.

Touchpoints go through the work app's action (``log_touchpoint``, as their CSM, with the
account's contacts taking part); then their times are moved back to when they happened, as
``tend.demo.tasks`` does for tasks. Only the biggest accounts get them: enough to show, and
cheap to build.
"""

import datetime
import random

from django.utils import timezone

from tend.accounts.models import Account, Assignment, Contact
from tend.demo import vocabulary as v
from tend.work.actions import log_touchpoint
from tend.work.models import Touchpoint
from tend.workspaces.access import Actor
from tend.workspaces.models import Member

ACCOUNTS = 40
DAYS = 90
NOTES = [
    ("call", "Check-in with the champion", "neutral",
     "Usage is steady. They asked about **SSO** and the reporting export."),
    ("meeting", "Quarterly business review", "positive",
     "- Adoption up since last quarter\n- Two more teams onboarding\n- Renewal looks safe"),
    ("email", "Sent the product update recap", "neutral",
     "Shared the release notes and the admin training recording."),
    ("qbr", "QBR with the executive sponsor", "positive",
     "Agreed on the success plan for next year; sponsor wants a roadmap preview."),
    ("escalation", "Escalation: data import failing", "negative",
     "Imports have failed for three days. Support is on it; daily updates promised."),
    ("note", "Champion changing roles", "negative",
     "Our champion moves to another team next month. Need a new sponsor."),
    ("call", "Seat expansion discussion", "positive",
     "They want 20 more seats for the EMEA team. Quote to follow."),
]  # fmt: skip


def build_touchpoints(actor: Actor, today: datetime.date, seed: int = v.DEFAULT_SEED) -> dict:
    """Create the demo's touchpoints; returns counts for the command."""
    rng = random.Random(seed * 11 + 5)
    workspace = actor.workspace
    members = {m.pk: m for m in Member.objects.filter(workspace=workspace).select_related("user")}
    owner_of = dict(
        Assignment.objects.filter(workspace=workspace, role__key="success_manager").values_list(
            "account_id", "member_id"
        )
    )
    accounts = sorted(
        Account.objects.filter(workspace=workspace, pk__in=list(owner_of)).exclude(
            status="churned"
        ),
        key=lambda a: (-(a.attributes or {}).get("contract_value", 0), a.pk),
    )[:ACCOUNTS]
    contacts: dict[int, list[int]] = {}
    for account_id, pk in Contact.objects.filter(
        workspace=workspace, account__in=accounts
    ).values_list("account_id", "pk"):
        contacts.setdefault(account_id, []).append(pk)
    now = timezone.now()
    when: dict[int, datetime.datetime] = {}
    for account in accounts:
        member = members[owner_of[account.pk]]
        for kind, subject, sentiment, body in rng.sample(NOTES, k=rng.randint(2, 4)):
            people = contacts.get(account.pk, [])
            touchpoint = log_touchpoint(
                Actor(workspace=workspace, member=member),
                account,
                {
                    "type": kind,
                    "subject": subject,
                    "body": body,
                    "sentiment": sentiment,
                    "contacts": rng.sample(people, k=min(len(people), rng.randint(0, 2))),
                },
            )
            when[touchpoint.pk] = now - datetime.timedelta(
                days=rng.randint(1, DAYS), hours=rng.randint(0, 8)
            )
    rows = list(Touchpoint.objects.filter(workspace=workspace, pk__in=list(when)))
    for row in rows:
        row.occurred_at = row.created_at = row.updated_at = when[row.pk]
    Touchpoint.objects.bulk_update(rows, ["occurred_at", "created_at", "updated_at"], batch_size=500)
    return {"touchpoints": len(rows)}
