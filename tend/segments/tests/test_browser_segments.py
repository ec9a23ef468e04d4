"""Segments in real Chromium: build a condition with nested groups and watch the member count
follow every edit, save the segment, open it and find its members and their history; keep
a static list by hand."""

import pytest

from tend.segments.models import Segment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def settled(page) -> None:
    """Wait until htmx has sent, swapped and processed everything."""
    page.wait_for_function("!document.querySelector('.htmx-request, .htmx-added, .htmx-settling')")


def count_is(page, n: int) -> None:
    """Wait for the builder's live count (debounced) to say ``n``."""
    page.wait_for_selector(f'#condition-count [data-count="{n}"]')


def test_a_segment_built_with_nested_groups_counts_live_and_lists_its_members(owner, book, login):
    page = login(owner)
    page.goto("/segments/")
    page.click(".page-actions >> text=New segment")
    page.wait_for_selector("#condition-builder")
    page.fill("#id_name", "Paying, enterprise or pro")
    count_is(page, 8)  # no condition yet: every account

    page.select_option("#condition-r_0-field", "status")
    settled(page)
    assert (
        page.locator("#condition-r_0-error").inner_text() == "Choose a value to use this condition."
    )
    page.select_option("#condition-r_0-value", "paying")
    count_is(page, 4)

    # A nested "any" group: enterprise, or (not free and not …) — two levels deep.
    page.click("button[value='add_group:r']")
    settled(page)
    assert page.locator("#condition-r_1-kind").input_value() == "any"
    page.select_option("#condition-r_1_0-field", "attributes.plan")
    settled(page)
    page.select_option("#condition-r_1_0-value", "enterprise")
    count_is(page, 2)
    page.click("button[value='add_group:r_1']")
    settled(page)
    page.select_option("#condition-r_1_1_0-field", "attributes.plan")
    settled(page)
    page.select_option("#condition-r_1_1_0-op", "in")
    settled(page)
    page.click("#condition-r_1_1_0 .cb-multi summary")
    page.check("#condition-r_1_1_0 input[value=pro]")
    count_is(page, 3)  # acme, initech (enterprise) and globex (pro)

    # "Not" on the inner group: paying and (enterprise or not pro) is acme, initech, tyrell.
    page.click("button[value='not:r_1_1']")
    settled(page)
    page.wait_for_selector("#condition-r_1_1.cb-negated")
    page.click("button[value='not:r_1_1']")
    settled(page)
    count_is(page, 3)

    page.click("button[data-default-submit]")
    page.wait_for_url(lambda url: "/new/" not in url)
    segment = Segment.objects.get(name="Paying, enterprise or pro")
    assert segment.condition == {
        "all": [
            {"field": "status", "op": "eq", "value": "paying"},
            {"any": [
                {"field": "attributes.plan", "op": "eq", "value": "enterprise"},
                {"all": [{"field": "attributes.plan", "op": "in", "value": ["pro"]}]},
            ]},
        ]
    }  # fmt: skip
    assert (
        page.locator(".flash-success")
        .inner_text()
        .startswith("Saved “Paying, enterprise or pro”: 3 accounts")
    )
    assert set(page.locator(".accounts-table td.account-name > a").all_inner_texts()) == {
        "Acme",
        "Globex",
        "Initech",
    }
    assert page.locator(".change-list .badge-entered").count() == 3
    assert "Status is paying and (Plan is enterprise or (Plan is any of pro))" in page.inner_text(
        ".segment-summary"
    )

    # The members sort by a header click, in place.
    page.click(".accounts-table th a:has-text('Name')")
    page.wait_for_url(lambda url: "sort=-name" in url)
    settled(page)
    assert page.locator(".accounts-table td.account-name > a").first.inner_text() == "Initech"


def test_an_error_shows_under_its_row_as_it_is_typed(owner, book, login):
    page = login(owner)
    page.goto("/segments/new/")
    page.wait_for_selector("#condition-builder")
    page.select_option("#condition-r_0-field", "attributes.plan")
    settled(page)
    page.click("button[value='json']")
    page.wait_for_selector("#condition-json")
    page.fill(
        "#condition-json", '{"all": [{"field": "attributes.plan", "op": "eq", "value": "gold"}]}'
    )
    page.wait_for_selector("#condition-error:has-text('unknown option')")
    assert "Fix the conditions" in page.inner_text("#condition-count")
    page.click("button[value='rows']")
    page.wait_for_selector("#condition-r_0-error:has-text('unknown option')")
    assert page.locator("#condition-r_0-value").input_value() == "gold"


def test_a_static_segment_is_kept_by_hand(owner, book, login):
    page = login(owner)
    page.goto("/segments/new/?kind=static")
    assert not page.is_visible("#condition-builder")
    page.fill("#id_name", "Watchlist")
    page.click("button[data-default-submit]")
    page.wait_for_url(lambda url: "/new/" not in url)
    page.fill("#find-accounts", "glob")
    page.wait_for_selector("#found-accounts li")
    page.click("#found-accounts li button")
    page.wait_for_selector(".flash-success:has-text('Added 1 account')")
    assert page.locator(".accounts-table td.account-name > a").all_inner_texts() == ["Globex"]
    page.click(".accounts-table .row-action button")
    page.wait_for_selector(".flash-success:has-text('Removed 1 account')")
    assert page.locator(".accounts-table").count() == 0
    assert page.locator(".change-list .badge-left").count() == 1
