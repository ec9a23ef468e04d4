"""A small workspace with known health, for the pages' tests: paying accounts in every rank
with owners and attributes, one paying account never scored, and a trial and a churned one.

Health is written as rows (not scored from usage), so every count in the tests is known:

=========  =======  ======  ===========  =====  ==========
account    status   rank    owner (CSM)  plan   region
=========  =======  ======  ===========  =====  ==========
acme       paying   good    Alice        Gold   EMEA
globex     paying   average Bob          Gold   EMEA
initech    paying   poor    Alice        Silver Americas
umbrella   paying   poor    —            —      —
hooli      paying   (none)  Bob          Silver —
trialco    trial    good    Alice        —      —
goneco     churned  poor    —            —      —
=========  =======  ======  ===========  =====  ==========
"""

import datetime

from django.utils import timezone

from tend.accounts.actions.accounts import create_account
from tend.accounts.models import AssignmentRole, AttributeDefinition, AttributeType
from tend.health import sources
from tend.health.actions.profiles import ensure_default_profile
from tend.health.models import AccountHealth, HealthSnapshot
from tend.lib.dates import to_ms
from tend.test import make_member
from tend.usage.actions.ingest import ingest
from tend.usage.ingest.facts import EventFact, Intake
from tend.usage.models import Source
from tend.usage.rollups import roll_up

SCORES = {"good": 100.0, "average": 60.0, "poor": 0.0}
ACCOUNTS = {
    # external id: (status, rank or None, owner key or None, attributes)
    "acme": ("paying", "good", "alice", {"plan": "Gold", "region": "EMEA", "strategic": True}),
    "globex": ("paying", "average", "bob", {"plan": "Gold", "region": "EMEA"}),
    "initech": (
        "paying",
        "poor",
        "alice",
        {"plan": "Silver", "region": "Americas", "strategic": False},
    ),
    "umbrella": ("paying", "poor", None, {}),
    "hooli": ("paying", None, "bob", {"plan": "Silver"}),
    "trialco": ("trial", "good", "alice", {}),
    "goneco": ("churned", "poor", None, {}),
}


def set_health(account, rank: str | None, *, day: int | None = None) -> None:
    """Store ``rank`` as the account's current health and today's snapshot, or, given a past
    ``day``, as that day's snapshot only."""
    workspace = account.workspace
    profile = ensure_default_profile(workspace)
    score = SCORES.get(rank)
    if day is None:
        AccountHealth.objects.update_or_create(
            account=account,
            defaults={
                "workspace": workspace,
                "profile": profile,
                "version": profile.current_version,
                "score": score,
                "rank": rank,
            },
        )
    HealthSnapshot.objects.update_or_create(
        account=account,
        day=sources.local_today(workspace) if day is None else day,
        defaults={
            "workspace": workspace,
            "score": score,
            "rank": rank,
            "version": profile.current_version,
        },
    )


def build_world(owner) -> dict:
    """The accounts of the table above, by external id, plus ``members`` and ``role``."""
    workspace = owner.workspace
    role = AssignmentRole.objects.create(
        workspace=workspace, key="success_manager", name="Success Manager"
    )
    AttributeDefinition.objects.create(
        workspace=workspace,
        key="plan",
        label="Plan",
        type=AttributeType.ENUM,
        options=["Gold", "Silver"],
        position=0,
    )
    AttributeDefinition.objects.create(
        workspace=workspace, key="region", label="Region", type=AttributeType.TEXT, position=1
    )
    AttributeDefinition.objects.create(
        workspace=workspace,
        key="strategic",
        label="Strategic",
        type=AttributeType.BOOLEAN,
        position=2,
    )
    members = {
        "alice": make_member(workspace, "practitioner", "alice@acme.test", "Alice Anders"),
        "bob": make_member(workspace, "practitioner", "bob@acme.test", "Bob Brown"),
    }
    accounts = {}
    for external_id, (status, rank, owner_key, attributes) in ACCOUNTS.items():
        data = {
            "external_id": external_id,
            "name": external_id.capitalize(),
            "status": status,
            "attributes": attributes,
        }
        if owner_key:
            data["assignments"] = {"success_manager": members[owner_key].user.email}
        account = create_account(owner.actor, data)
        if rank is not None:
            set_health(account, rank)
        accounts[external_id] = account
    return {**accounts, "members": members, "role": role}


def use(workspace, account: str, *days_ago: int, user: str = "u", now=None) -> None:
    """Events of ``account`` (an external id) on the given days ago, rolled up into its
    metrics, as the product would send them."""
    now = now or timezone.now()
    facts = [
        EventFact(
            i,
            account,
            f"{account}-{user}",
            "Logged in",
            "",
            to_ms(now - datetime.timedelta(days=d)),
        )
        for i, d in enumerate(days_ago)
    ]
    ingest(workspace, Intake(source=Source.API, received=len(facts), events=facts))
    roll_up(now=now)
