"""A small book of business for segment tests: eight accounts of every status, and the
conditions and helpers the tests share."""

import pytest

from tend.accounts.actions.accounts import create_account
from tend.accounts.actions.definitions.attributes import create_attribute
from tend.segments.actions import create_segment
from tend.workspaces.models import ApiToken

PAYING = {"field": "status", "op": "eq", "value": "paying"}
ENTERPRISE = {"field": "attributes.plan", "op": "eq", "value": "enterprise"}

# external id → (status, plan)
BOOK = {
    "acme": ("paying", "enterprise"),
    "globex": ("paying", "pro"),
    "initech": ("paying", "enterprise"),
    "umbrella": ("trial", "pro"),
    "hooli": ("trial", "enterprise"),
    "stark": ("churned", "enterprise"),
    "wayne": ("free", None),
    "tyrell": ("paying", None),
}


@pytest.fixture
def book(owner):
    """The owner's workspace with a ``plan`` attribute and the accounts of ``BOOK``; returns
    external id → account."""
    actor = owner.actor
    create_attribute(
        actor,
        {"key": "plan", "label": "Plan", "type": "enum", "options": ["free", "pro", "enterprise"]},
    )
    accounts = {}
    for external_id, (status, plan) in BOOK.items():
        data = {"external_id": external_id, "name": external_id.title(), "status": status}
        if plan:
            data["attributes"] = {"plan": plan}
        accounts[external_id] = create_account(actor, data)
    return accounts


def names(rows) -> set[str]:
    """External ids of accounts, or of the accounts of membership/change rows."""
    return {getattr(r, "external_id", None) or r.account.external_id for r in rows}


def shared(persona, name, condition=None, **extra):
    data = {"name": name, "visibility": "shared", **extra}
    if condition is not None:
        data["condition"] = condition
    else:
        data.setdefault("kind", "static")
    return create_segment(persona.actor, data)


def token_of(persona):
    """Make the persona's API token act for them (created by their member)."""
    ApiToken.objects.filter(
        workspace=persona.workspace, name=f"{persona.member.seat} token"
    ).update(created_by=persona.member)
    return persona
