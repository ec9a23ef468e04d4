"""A small book of business for the scorecard and saved view tests, every gap in its data
known:

========  =======  ==========  =====  ==========  ===========  =======  ============
account   status   stage       CSM    plan        contract     renews   last usage
========  =======  ==========  =====  ==========  ===========  =======  ============
acme      paying   Adoption    Alice  enterprise  50,000       +30 d    today
globex    paying   Onboarding  Bob    pro         10,000       —        40 days ago
initech   paying   —           —      enterprise  —            +200 d   never
umbrella  trial    Onboarding  Alice  pro         —            —        2 days ago
hooli     free     —           —      —           —            —        never
stark     churned  —           —      —           20,000       —        never
========  =======  ==========  =====  ==========  ===========  =======  ============
"""

import datetime

from django.utils import timezone

from tend.accounts.actions.accounts import create_account
from tend.accounts.actions.definitions import create_attribute
from tend.accounts.actions.definitions import set_up_workspace as set_up_data_model
from tend.lib.dates import to_ms
from tend.test import make_member
from tend.usage.actions.ingest import ingest
from tend.usage.ingest.facts import EventFact, Intake
from tend.usage.models import Source
from tend.usage.rollups import roll_up

PAYING = {"field": "status", "op": "eq", "value": "paying"}
ENTERPRISE = {"field": "attributes.plan", "op": "eq", "value": "enterprise"}

# external id: (status, stage, CSM, attributes, days since each usage event)
BOOK = {
    "acme": (
        "paying",
        "Adoption",
        "alice",
        {"plan": "enterprise", "contract_value": 50000, "renewal_date": 30},
        (0,),
    ),
    "globex": ("paying", "Onboarding", "bob", {"plan": "pro", "contract_value": 10000}, (40,)),
    "initech": ("paying", None, None, {"plan": "enterprise", "renewal_date": 200}, ()),
    "umbrella": ("trial", "Onboarding", "alice", {"plan": "pro"}, (2,)),
    "hooli": ("free", None, None, {}, ()),
    "stark": ("churned", None, None, {"contract_value": 20000}, ()),
}


def build_book(owner) -> dict:
    """The table's accounts by external id, plus ``members`` (alice, bob)."""
    actor = owner.actor
    workspace = owner.workspace
    set_up_data_model(workspace=workspace, actor=actor)
    create_attribute(
        actor,
        {"key": "plan", "label": "Plan", "type": "enum", "options": ["pro", "enterprise"]},
    )
    create_attribute(
        actor, {"key": "contract_value", "label": "Contract value", "type": "currency"}
    )
    create_attribute(actor, {"key": "renewal_date", "label": "Renewal date", "type": "date"})
    members = {
        "alice": make_member(workspace, "practitioner", "alice@acme.test", "Alice Anders"),
        "bob": make_member(workspace, "practitioner", "bob@acme.test", "Bob Brown"),
    }
    today = timezone.localdate()
    accounts = {}
    for external_id, (status, stage, csm, attributes, _usage) in BOOK.items():
        attributes = dict(attributes)
        if "renewal_date" in attributes:
            days = attributes["renewal_date"]
            attributes["renewal_date"] = (today + datetime.timedelta(days=days)).isoformat()
        data = {
            "external_id": external_id,
            "name": external_id.capitalize(),
            "status": status,
            "attributes": attributes,
        }
        if stage:
            data["stage"] = stage
        if csm:
            data["assignments"] = {"success_manager": members[csm].user.email}
        accounts[external_id] = create_account(actor, data)
    _use(workspace)
    return {**accounts, "members": members}


def _use(workspace) -> None:
    """Each account's events of the table, rolled up into its usage metrics at once."""
    now = timezone.now()
    moments = [
        (external_id, to_ms(now - datetime.timedelta(days=days)))
        for external_id, (*_rest, usage) in BOOK.items()
        for days in usage
    ]
    facts = [
        EventFact(i, external_id, f"{external_id}-user", "Logged in", "", at)
        for i, (external_id, at) in enumerate(moments)
    ]
    ingest(workspace, Intake(source=Source.API, received=len(facts), events=facts))
    roll_up(now=now)


def names(accounts) -> set[str]:
    return {account.external_id for account in accounts}
