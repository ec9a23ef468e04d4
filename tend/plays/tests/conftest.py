"""A small book of business for play tests, and helpers that drive the engine the way the
worker does (poll the triggers, then advance due runs)."""

import pytest

from tend.accounts.actions.accounts import create_account
from tend.accounts.actions.definitions.attributes import create_attribute
from tend.plays.actions import create_play, set_status
from tend.plays.engine import advance_due
from tend.plays.polling import poll_workspace
from tend.segments.actions import create_segment
from tend.segments.actions.membership import add_accounts, remove_accounts


@pytest.fixture
def book(owner):
    actor = owner.actor
    create_attribute(
        actor,
        {"key": "plan", "label": "Plan", "type": "enum", "options": ["free", "pro", "enterprise"]},
    )
    create_attribute(actor, {"key": "renewal_date", "label": "Renewal date", "type": "date"})
    create_attribute(actor, {"key": "note", "label": "Note", "type": "text"})
    accounts = {}
    for key, plan in (("acme", "enterprise"), ("globex", "pro"), ("initech", "enterprise")):
        accounts[key] = create_account(
            actor,
            {
                "external_id": key,
                "name": key.title(),
                "status": "paying",
                "attributes": {"plan": plan},
            },
        )
    return accounts


@pytest.fixture
def static_segment(owner):
    return create_segment(
        owner.actor, {"name": "New customers", "kind": "static", "visibility": "shared"}
    )


def enter(owner, segment, *accounts):
    add_accounts(owner.actor, segment, account_ids=[a.pk for a in accounts])


def leave(owner, segment, *accounts):
    remove_accounts(owner.actor, segment, account_ids=[a.pk for a in accounts])


def tick(workspace):
    """One scheduler round: poll triggers, then advance every due run."""
    poll_workspace(workspace)
    advance_due(workspace.pk)


def tag_play(owner, segment, *, tag="onboarding", status="active", backfill=False, **extra):
    play = create_play(
        owner.actor,
        {
            "name": extra.pop("name", "Onboarding kickoff"),
            "trigger": {"kind": "segment_entered", "config": {"segment_id": segment.pk}},
            "steps": extra.pop("steps", [{"kind": "add_tag", "config": {"tag": tag}}]),
            **extra,
        },
    )
    if status == "active":
        set_status(owner.actor, play, "active", backfill=backfill)
        play.refresh_from_db()
    return play
