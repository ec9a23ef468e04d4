"""The demo's scorecards and saved views.

* **Customer Intelligence** — every new workspace's built-in scorecard
  (``tend.segments.customer_intelligence``), installed when the demo workspace was created
  and counted again here, now that the accounts and their usage are in.
* **Book of business** (shared) — paying customers, annual contract value against a target,
  the average health score, the share of paying customers in Poor health, engagement, and
  two of the demo segments counted day by day (their trends come from the segments' 90
  days of counts).
* Saved views: **Renewals, next 90 days** (by renewal date, with contract value, owner,
  health and last use), **Quiet paying accounts** (the "no usage in 14 days" segment,
  largest contracts first), and the contributor's private **My accounts**.

The contract value target is set a little above the book's value now, rounded, so the card
reads as a goal still to reach, as a quarter's target would.
"""

import math

from django.db.models import FloatField, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from tend.accounts.models import Account
from tend.demo import vocabulary as v
from tend.segments.actions.scorecards import add_card, create_scorecard, record_card_values
from tend.segments.actions.views import create_view
from tend.segments.models import Segment
from tend.segments.scorecard_models import KpiCard, Scorecard
from tend.segments.view_models import SavedView
from tend.workspaces.access import Actor
from tend.workspaces.models import Member

PAYING = {"field": "status", "op": "eq", "value": "paying"}
ACV_GROWTH = 1.08


def _acv_target(workspace) -> float:
    paying = Account.objects.filter(workspace=workspace, status="paying")
    total = paying.aggregate(
        total=Sum(Cast(KeyTextTransform("contract_value", "attributes"), FloatField()))
    )["total"]
    return math.ceil((total or 0) * ACV_GROWTH / 100_000) * 100_000


def build_scorecards(actor: Actor) -> dict:
    """The scorecards and views above; returns counts for the command."""
    workspace = actor.workspace
    segments = dict(Segment.objects.filter(workspace=workspace).values_list("name", "id"))
    book = create_scorecard(
        actor,
        {
            "name": "Book of business",
            "description": "Paying customers, their contracts, health and use, against this quarter's targets.",
            "visibility": "shared",
        },
    )
    target = _acv_target(workspace)
    cards = [
        {"title": "Paying customers", "condition": PAYING},
        {
            "title": "Annual contract value",
            "description": "Contract value of every paying customer, against the quarter's target.",
            "kind": "sum",
            "field": "attributes.contract_value",
            "condition": PAYING,
            "target": target,
            "tolerance": target * 0.1,
        },
        {
            "title": "Average health score",
            "description": "The mean health score of paying customers (0–100).",
            "kind": "average",
            "field": "health.score",
            "condition": PAYING,
            "target": 70,
            "tolerance": 5,
        },
        {
            "title": "Paying customers in Poor health",
            "description": "Their share of all paying customers: each is a renewal at risk.",
            "kind": "percentage",
            "segment_id": segments["Poor health, paying"],
            "base": "paying",
            "target": 10,
            "direction": "at_most",
            "tolerance": 5,
        },
        {
            "title": "Used the product this week",
            "description": "Share of paying customers seen in the last 7 days.",
            "kind": "percentage",
            "condition": {"field": "usage.last_seen", "op": "within_last_days", "value": 7},
            "base": "paying",
            "target": 80,
            "tolerance": 10,
        },
        {
            "title": "Paying, no usage in 14 days",
            "description": "The segment's members, day by day: call them before their renewal does.",
            "segment_id": segments["Paying, no usage in 14 days"],
            "target": 15,
            "direction": "at_most",
            "tolerance": 10,
        },
        {
            "title": "Enterprise renewing in 90 days",
            "description": "Renewals coming up: each needs a business review booked.",
            "segment_id": segments["Enterprise renewing in 90 days"],
        },
    ]
    for card in cards:
        add_card(actor, book, card)

    create_view(
        actor,
        {
            "name": "Renewals, next 90 days",
            "description": "Paying customers renewing soon, the nearest first.",
            "visibility": "shared",
            "condition": {
                "all": [
                    PAYING,
                    {"field": "attributes.renewal_date", "op": "within_next_days", "value": 90},
                ]
            },
            "columns": [
                "attributes.renewal_date",
                "attributes.contract_value",
                "attributes.plan",
                "owner.success_manager",
                "health.rank",
                "health.score",
                "usage.last_seen",
            ],
            "sort": ["attributes.renewal_date"],
        },
    )
    create_view(
        actor,
        {
            "name": "Quiet paying accounts",
            "description": "Paying customers nobody has used for two weeks, largest contracts first.",
            "visibility": "shared",
            "segment_id": segments["Paying, no usage in 14 days"],
            "columns": [
                "usage.last_seen",
                "attributes.contract_value",
                "attributes.renewal_date",
                "owner.success_manager",
                "health.rank",
            ],
            "sort": ["-attributes.contract_value"],
        },
    )
    contributor = Member.objects.get(workspace=workspace, user__email=f"contributor@{v.DOMAIN}")
    create_view(
        Actor(workspace=workspace, member=contributor),
        {
            "name": "My accounts",
            "description": "The accounts I look after, least healthy first.",
            "condition": {
                "field": "owner.success_manager",
                "op": "eq",
                "value": contributor.user.email,
            },
            "columns": [
                "status",
                "stage",
                "health.rank",
                "health.score",
                "usage.last_seen",
                "attributes.renewal_date",
            ],
            "sort": ["health.score"],
        },
    )
    # The built-in scorecard's values were recorded when the workspace was still empty.
    record_card_values(workspace)
    return {
        "scorecards": Scorecard.objects.filter(workspace=workspace).count(),
        "scorecard_cards": KpiCard.objects.filter(workspace=workspace).count(),
        "saved_views": SavedView.objects.filter(workspace=workspace).count(),
    }
