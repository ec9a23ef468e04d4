"""The scorecard pages: the list with each scorecard's statuses, a scorecard's grid of KPI
cards (value, target, status, trend, click-through), the forms with errors beside their
fields, and access: outsiders 404, a viewer reads but changes nothing; query counts."""

import re
from html import unescape

import pytest
from django.utils import timezone

from tend.accounts.actions.accounts import create_account
from tend.segments.actions import create_segment
from tend.segments.actions.scorecards import (
    add_card,
    create_scorecard,
    install_customer_intelligence,
)
from tend.segments.scorecard_models import KpiCard, Scorecard
from tend.segments.tests.scorecard_world import ENTERPRISE, PAYING, build_book

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(owner):
    return build_book(owner)


@pytest.fixture
def ci(owner, book):
    return install_customer_intelligence(owner.workspace)


def text(response) -> str:
    """The page's visible words, one space between them."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_list_shows_each_scorecard_with_its_statuses(owner, ci):
    response = owner.browser.get("/scorecards/")
    assert response.status_code == 200
    words = text(response)
    assert "Customer Intelligence Built in" in words
    assert "6 at risk" in words
    assert "Shared" in words


def test_the_navigation_leads_to_scorecards_and_saved_views(owner, ci):
    html = owner.browser.get("/scorecards/").content.decode()
    assert 'href="/scorecards/" class="nav-item active"' in html
    assert 'href="/views/"' in html


def test_a_scorecard_shows_every_card_with_value_target_status_and_click_through(owner, ci):
    response = owner.browser.get(f"/scorecards/{ci.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    words = text(response)
    assert "Without a journey stage" in words
    assert "0 on track 6 at risk 0 off track" in words
    card = KpiCard.objects.get(scorecard=ci, title="Paying, without a renewal date")
    block = html[html.index(f'id="card-{card.pk}"') :]
    block = block[: block.index("</article>")]
    assert "status-at_risk" in block
    assert ">1</a>" in block
    assert "Target at most 0 · at risk to 5" in " ".join(re.sub(r"<[^>]+>", " ", block).split())
    assert 'href="/accounts/?where=' in block


def test_a_card_with_a_trend_draws_a_sparkline_and_a_new_one_says_its_trend_starts(owner, ci):
    card = KpiCard.objects.get(scorecard=ci, title="Customers")
    card.values.create(
        workspace=owner.workspace,
        day=timezone.localdate() - timezone.timedelta(days=3),
        value=4,
    )
    html = owner.browser.get(f"/scorecards/{ci.pk}/").content.decode()
    block = html[html.index(f'id="card-{card.pk}"') :]
    assert "data-spark=" in block[: block.index("</article>")]
    other = KpiCard.objects.get(scorecard=ci, title="Never sent usage")
    block = html[html.index(f'id="card-{other.pk}"') :]
    assert "The trend starts today" in block[: block.index("</article>")]


def test_a_card_needing_an_attribute_says_so_on_the_scorecard(owner, ci):
    from tend.accounts.actions.definitions import delete_attribute
    from tend.accounts.models import AttributeDefinition

    delete_attribute(
        owner.actor,
        AttributeDefinition.objects.get(workspace=owner.workspace, key="contract_value"),
    )
    response = owner.browser.get(f"/scorecards/{ci.pk}/")
    assert "Needs the account attribute 'contract_value'" in text(response)
    html = response.content.decode()
    problem = html[html.index('class="kpi-problem"') :]
    assert '<a href="/data-model/">Open the data model</a>' in problem[: problem.index("</div>")]


def test_a_viewer_sees_no_editing_controls_and_cannot_post(viewer, ci):
    response = viewer.browser.get(f"/scorecards/{ci.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Add a card" not in html
    assert "/cards/new/" not in html
    card = ci.cards.first()
    assert viewer.browser.get(f"/scorecards/{ci.pk}/cards/new/").status_code == 403
    assert viewer.browser.post(f"/scorecards/{ci.pk}/cards/{card.pk}/delete/").status_code == 403
    assert viewer.browser.post(f"/scorecards/{ci.pk}/delete/").status_code == 403
    assert viewer.browser.get("/scorecards/new/").status_code == 403
    assert KpiCard.objects.filter(pk=card.pk).exists()


def test_an_outsider_gets_404_on_every_scorecard_page(outsider, ci):
    card = ci.cards.first()
    for url in (
        f"/scorecards/{ci.pk}/",
        f"/scorecards/{ci.pk}/edit/",
        f"/scorecards/{ci.pk}/delete/",
        f"/scorecards/{ci.pk}/cards/new/",
        f"/scorecards/{ci.pk}/cards/{card.pk}/edit/",
    ):
        assert outsider.browser.get(url).status_code == 404, url
    for url in (
        f"/scorecards/{ci.pk}/delete/",
        f"/scorecards/{ci.pk}/cards/{card.pk}/move/",
        f"/scorecards/{ci.pk}/cards/{card.pk}/delete/",
    ):
        assert outsider.browser.post(url).status_code == 404, url
    assert Scorecard.objects.filter(pk=ci.pk).exists()
    assert f"/scorecards/{ci.pk}/" not in outsider.browser.get("/scorecards/").content.decode()


def test_create_a_scorecard_then_add_a_card_through_the_forms(owner, book):
    response = owner.browser.post(
        "/scorecards/new/", {"name": "Renewals", "description": "", "visibility": "shared"}
    )
    scorecard = Scorecard.objects.get(name="Renewals")
    assert response.status_code == 302
    assert response["Location"] == f"/scorecards/{scorecard.pk}/"
    response = owner.browser.post(
        f"/scorecards/{scorecard.pk}/cards/new/",
        {
            "title": "Enterprise share of paying",
            "kind": "percentage",
            "source": "condition",
            "condition-r-kind": "all",
            "condition-r_0-kind": "clause",
            "condition-r_0-field": "attributes.plan",
            "condition-r_0-was": "attributes.plan",
            "condition-r_0-op": "eq",
            "condition-r_0-value": "enterprise",
            "base": "paying",
            "target": "50",
            "direction": "at_least",
            "tolerance": "",
        },
    )
    assert response.status_code == 302, text(response)
    card = scorecard.cards.get()
    assert (card.kind, card.condition, card.base, card.target) == (
        "percentage",
        {"all": [ENTERPRISE]},
        "paying",
        50.0,
    )
    assert "66.7%" in text(owner.browser.get(f"/scorecards/{scorecard.pk}/"))


def test_a_card_form_shows_each_error_beside_its_field(owner, book):
    scorecard = create_scorecard(owner.actor, {"name": "Revenue", "visibility": "shared"})
    base = {
        "title": "Contract value",
        "kind": "sum",
        "source": "all",
        "direction": "at_least",
        "target": "",
        "tolerance": "",
    }
    response = owner.browser.post(f"/scorecards/{scorecard.pk}/cards/new/", base)
    assert response.status_code == 422
    html = response.content.decode()
    field = html[html.index('id="id_field"') :]
    assert "is required: the number field to sum" in field[: field.index("</div>") + 200]

    response = owner.browser.post(
        f"/scorecards/{scorecard.pk}/cards/new/",
        {**base, "field": "attributes.contract_value", "target": "lots"},
    )
    html = response.content.decode()
    target = html[html.index('id="id_target"') :]
    assert "expected a number, got &#x27;lots&#x27;" in target[: target.index("</div>") + 300]

    response = owner.browser.post(
        f"/scorecards/{scorecard.pk}/cards/new/",
        {
            **base,
            "kind": "count",
            "source": "condition",
            "condition-r-kind": "all",
            "condition-r_0-kind": "clause",
            "condition-r_0-field": "attributes.plan",
            "condition-r_0-was": "attributes.plan",
            "condition-r_0-op": "in",
            "condition-r_0-value": "gold",
        },
    )
    assert response.status_code == 422
    assert "unknown option" in text(response)
    assert not scorecard.cards.exists()


def test_a_shared_scorecards_card_form_offers_private_segments_disabled(owner, book):
    scorecard = create_scorecard(owner.actor, {"name": "Revenue", "visibility": "shared"})
    create_segment(owner.actor, {"name": "Mine only", "condition": ENTERPRISE})
    html = owner.browser.get(f"/scorecards/{scorecard.pk}/cards/new/").content.decode()
    assert re.search(r"<option value=\"\d+\" disabled>Mine only \(private\)</option>", html)


def test_cards_move_and_delete_from_the_scorecard(owner, book):
    scorecard = create_scorecard(owner.actor, {"name": "Revenue", "visibility": "shared"})
    first = add_card(owner.actor, scorecard, {"title": "First", "condition": PAYING})
    add_card(owner.actor, scorecard, {"title": "Second"})
    owner.browser.post(f"/scorecards/{scorecard.pk}/cards/{first.pk}/move/", {"direction": "later"})
    assert list(scorecard.cards.values_list("title", flat=True)) == ["Second", "First"]
    owner.browser.post(f"/scorecards/{scorecard.pk}/cards/{first.pk}/delete/")
    assert list(scorecard.cards.values_list("title", flat=True)) == ["Second"]


def test_editing_a_card_keeps_its_condition_in_the_builder(owner, book):
    scorecard = create_scorecard(owner.actor, {"name": "Revenue", "visibility": "shared"})
    card = add_card(owner.actor, scorecard, {"title": "Enterprise", "condition": ENTERPRISE})
    html = owner.browser.get(f"/scorecards/{scorecard.pk}/cards/{card.pk}/edit/").content.decode()
    assert 'value="Enterprise"' in html
    assert '<option value="attributes.plan" selected>' in html


def test_the_scorecard_page_costs_the_same_queries_for_more_accounts_and_cards(
    owner, ci, django_assert_max_num_queries
):
    def read():
        assert owner.browser.get(f"/scorecards/{ci.pk}/").status_code == 200

    read()
    with django_assert_max_num_queries(40) as captured:
        read()
    before = len(captured)
    for i in range(20):
        create_account(owner.actor, {"external_id": f"n{i}", "name": f"N {i}", "status": "paying"})
    add_card(owner.actor, ci, {"title": "More", "kind": "average", "field": "usage.events_30d"})
    with django_assert_max_num_queries(before):
        read()


def test_the_list_costs_the_same_queries_for_more_scorecards(
    owner, ci, django_assert_max_num_queries
):
    owner.browser.get("/scorecards/")
    with django_assert_max_num_queries(40) as captured:
        owner.browser.get("/scorecards/")
    before = len(captured)
    for i in range(3):
        other = create_scorecard(owner.actor, {"name": f"Set {i}", "visibility": "shared"})
        add_card(owner.actor, other, {"title": "Paying", "condition": PAYING})
    with django_assert_max_num_queries(before):
        owner.browser.get("/scorecards/")
