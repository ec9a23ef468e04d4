"""Scorecards and saved views in real Chromium: open the Customer Intelligence scorecard
and click a card through to exactly the accounts it counts; add a card; create a saved
view, choose its columns and sort it by a header."""

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest

from tend.segments.actions.scorecards import install_customer_intelligence
from tend.segments.scorecard_models import KpiCard
from tend.segments.tests.scorecard_world import build_book
from tend.segments.view_models import SavedView

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def book(owner):
    return build_book(owner)


def settled(page) -> None:
    page.wait_for_function("!document.querySelector('.htmx-added, .htmx-request, .htmx-settling')")


def listed(page) -> list[str]:
    return page.locator(".accounts-table td.account-name > a").all_inner_texts()


def test_a_customer_intelligence_card_clicks_through_to_the_accounts_to_fix(owner, book, login):
    scorecard = install_customer_intelligence(owner.workspace)
    page = login(owner)
    page.goto("/scorecards/")
    page.get_by_role("link", name="Customer Intelligence").click()
    page.wait_for_url(f"**/scorecards/{scorecard.pk}/")
    card = page.locator(
        ".kpi-card", has=page.get_by_role("heading", name="Paying, no usage in 30 days")
    )
    assert card.locator(".kpi-number").inner_text() == "2"
    assert card.locator(".status-pill").inner_text() == "At risk"
    card.locator(".kpi-number").click()
    page.wait_for_url(re.compile(r"/accounts/\?"))
    where = json.loads(parse_qs(urlparse(page.url).query)["where"][0])
    assert {c["field"] for c in where["all"] if "field" in c} == {"status"}
    assert sorted(listed(page)) == ["Globex", "Initech"]


def test_add_a_card_and_see_its_value_on_the_scorecard(owner, book, login):
    scorecard = install_customer_intelligence(owner.workspace)
    page = login(owner)
    page.goto(f"/scorecards/{scorecard.pk}/")
    page.get_by_role("link", name="Add a card").click()
    page.fill("#id_title", "Average contract value")
    page.check("input[name=kind][value=average]")
    page.select_option("#id_field", "attributes.contract_value")
    page.check("input[name=source][value=all]")
    page.fill("#id_target", "25000")
    page.get_by_role("button", name="Add the card").click()
    page.wait_for_url(re.compile(rf"/scorecards/{scorecard.pk}/#card-\d+$"))
    card = page.locator(".kpi-card", has=page.get_by_role("heading", name="Average contract value"))
    # acme 50,000, globex 10,000, stark 20,000.
    assert card.locator(".kpi-number").inner_text() == "26,667"
    assert card.locator(".status-pill").inner_text() == "On track"
    assert KpiCard.objects.filter(scorecard=scorecard, title="Average contract value").exists()


def test_create_a_view_choose_its_columns_and_sort_it(owner, book, login):
    page = login(owner)
    page.goto("/views/")
    page.get_by_role("link", name="New view").first.click()
    page.fill("#id_name", "Paying accounts")
    page.check("input[name=source][value=condition]")
    page.select_option("#condition-r_0-field", "status")
    settled(page)
    page.select_option("#condition-r_0-value", "paying")
    page.get_by_role("button", name="Create the view").click()
    page.wait_for_url(re.compile(r"/views/\d+/$"))
    view = SavedView.objects.get(name="Paying accounts")
    assert view.condition == {"all": [{"field": "status", "op": "eq", "value": "paying"}]}
    assert listed(page) == ["Acme", "Globex", "Initech"]

    page.locator("#column-chooser summary").click()
    page.select_option("#add-column", "attributes.contract_value")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_selector("th[data-column='attributes.contract_value']")
    settled(page)
    page.get_by_role("button", name="Remove Health score").click()
    page.wait_for_selector("th[data-column='health.score']", state="detached")
    settled(page)
    page.get_by_role("button", name="Move Contract value left").click()
    settled(page)
    page.wait_for_function(
        "document.querySelectorAll('th[data-column]')[document.querySelectorAll('th[data-column]').length - 2].dataset.column === 'attributes.contract_value'"
    )
    assert SavedView.objects.get(pk=view.pk).columns[-2:] == [
        "attributes.contract_value",
        "health.rank",
    ]

    page.locator("th[data-column='attributes.contract_value'] a").click()
    page.wait_for_url(re.compile(r"sort=-attributes.contract_value"))
    settled(page)
    # Largest first; initech has none, so it comes last.
    assert listed(page) == ["Acme", "Globex", "Initech"]
    page.locator("th[data-column='attributes.contract_value'] a").click()
    page.wait_for_url(re.compile(r"sort=attributes.contract_value"))
    settled(page)
    assert listed(page) == ["Globex", "Acme", "Initech"]
    page.get_by_role("button", name="Save this sort").click()
    page.wait_for_url(re.compile(r"/views/\d+/$"))
    assert SavedView.objects.get(pk=view.pk).sort == ["attributes.contract_value"]
    assert listed(page) == ["Globex", "Acme", "Initech"]
