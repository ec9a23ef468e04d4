"""The accounts list filtered by a condition in real Chromium: open the builder, pick fields,
watch the live count, apply it, keep it through the other filters, share the address."""

import json
from urllib.parse import parse_qs, urlparse

import pytest

from tend.accounts.actions.accounts import create_account
from tend.accounts.models import AttributeDefinition, AttributeType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def accounts(owner, workspace):
    AttributeDefinition.objects.create(
        workspace=workspace, key="seats", label="Seats", type=AttributeType.NUMBER, position=0
    )
    for key, status, seats in [
        ("acme", "paying", 120),
        ("globex", "paying", 8),
        ("initech", "trial", 60),
        ("umbrella", "churned", None),
    ]:
        attributes = {"seats": seats} if seats is not None else {}
        create_account(
            owner.actor,
            {"external_id": key, "name": key.title(), "status": status, "attributes": attributes},
        )


def settled(page) -> None:
    page.wait_for_function("!document.querySelector('.htmx-request, .htmx-added, .htmx-settling')")


def listed(page) -> set[str]:
    return set(page.locator(".accounts-table td.account-name > a").all_inner_texts())


def test_filter_the_list_by_a_condition_and_keep_it_in_the_address(owner, accounts, login):
    page = login(owner)
    page.goto("/accounts/")
    page.click(".condition-toggle")
    page.wait_for_selector("#where-builder")
    page.wait_for_selector('#where-count [data-count="4"]')

    page.select_option("#where-r_0-field", "attributes.seats")
    settled(page)
    page.select_option("#where-r_0-op", "gte")
    settled(page)
    page.fill("#where-r_0-value", "50")
    page.wait_for_selector('#where-count [data-count="2"]')  # acme, initech

    page.click("button[value='add_group:r']")
    settled(page)
    page.select_option("#where-r_1_0-field", "status")
    settled(page)
    page.select_option("#where-r_1_0-value", "paying")
    page.wait_for_selector('#where-count [data-count="1"]')

    page.click("button[data-default-submit]")
    page.wait_for_url(lambda url: "where=" in url)
    assert listed(page) == {"Acme"}
    condition = json.loads(parse_qs(urlparse(page.url).query)["where"][0])
    assert condition == {
        "all": [
            {"field": "attributes.seats", "op": "gte", "value": 50},
            {"any": [{"field": "status", "op": "eq", "value": "paying"}]},
        ]
    }
    assert "Seats at least 50 and (Status is paying)" in page.inner_text(".condition-summary")

    # Another filter keeps the condition; a reload of the shared address shows the same.
    page.select_option("select[name=status]", "trial")
    page.wait_for_url(lambda url: "status=trial" in url and "where=" in url)
    settled(page)
    assert page.locator(".accounts-table").count() == 0
    page.select_option("select[name=status]", "")
    page.wait_for_url(lambda url: "status=" not in url and "where=" in url)
    settled(page)
    address = page.url
    page.goto(address)
    assert listed(page) == {"Acme"}

    page.click("text=Remove the condition")
    page.wait_for_url(lambda url: "where=" not in url)
    assert listed(page) == {"Acme", "Globex", "Initech", "Umbrella"}


def test_a_shared_address_with_a_broken_condition_opens_the_builder_on_the_problem(
    owner, accounts, login
):
    page = login(owner)
    bad = json.dumps({"all": [{"field": "attributes.seats", "op": "gt", "value": "many"}]})
    page.goto(f"/accounts/?where={bad}")
    assert page.is_visible("#where-r_0-error")
    assert "expected a number" in page.inner_text("#where-r_0-error")
    page.fill("#where-r_0-value", "10")
    page.wait_for_selector('#where-count [data-count="2"]')
    assert page.inner_text("#where-r_0-error") == ""
    page.click("button[data-default-submit]")
    page.wait_for_url(lambda url: "%22value%22%3A10" in url or '"value":10' in url)
    assert listed(page) == {"Acme", "Initech"}
