"""The demo's scorecards and saved views: the built-in Customer Intelligence scorecard
counted on the demo's data, the Book of business with every card valued and the segment
counts as its trends, and the views listing accounts. (A week of usage, as in
``test_demo_segments.py``, to stay quick.)"""

import pytest

from tend.segments.cards import TREND_DAYS, show_cards
from tend.segments.scorecard_models import KpiValue, Scorecard
from tend.segments.scorecard_queries import cards_of
from tend.segments.view_models import SavedView
from tend.segments.view_rows import search_view

pytestmark = pytest.mark.django_db


def test_the_demo_has_scorecards_with_values_and_views_with_accounts(built_demo):
    result = built_demo.result
    workspace = result.workspace
    assert (result.counts["scorecards"], result.counts["saved_views"]) == (2, 3)

    intelligence = Scorecard.objects.get(workspace=workspace, template="customer_intelligence")
    shown = {s.card.title: s for s in show_cards(workspace, cards_of(intelligence))}
    # The demo's customer data is complete: every account that is not churned has a stage,
    # and every paying one a renewal date and a contract value.
    assert shown["Customers"].reading.value > 300
    assert shown["Without a journey stage"].reading.value == 0
    assert shown["Paying, without a contract value"].reading.value == 0
    # Recorded again once the accounts were in, not left at the empty workspace's zeros.
    customers = shown["Customers"].card
    assert KpiValue.objects.get(card=customers).value == shown["Customers"].reading.value

    book = Scorecard.objects.get(workspace=workspace, name="Book of business")
    shown = {s.card.title: s for s in show_cards(workspace, cards_of(book))}
    assert all(s.reading.value is not None for s in shown.values()), {
        title: s.reading.problem for title, s in shown.items()
    }
    assert shown["Annual contract value"].status in ("on_track", "at_risk")
    # Plain counts of the demo's segments take their 90 days of counts as their trend.
    renewing = shown["Enterprise renewing in 90 days"]
    assert len(renewing.trend) == TREND_DAYS
    assert KpiValue.objects.filter(card=renewing.card).count() == 91

    for view in SavedView.objects.filter(workspace=workspace):
        page, used = search_view(view, limit=5)
        assert page.items, view.name
        assert used.stale == []
