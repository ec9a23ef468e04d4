"""Usage on the accounts pages in real Chromium: the panel's charts, the child-account
switch, the activity stream's load-more and filters, end users' pages, the list's columns."""

import re

import pytest

from tend.accounts.actions.accounts import create_account
from tend.usage import rollups
from tend.usage.tests.usage_history import NOW, build_history, send_events, send_metric

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def history(owner, workspace):
    accounts = build_history(owner)
    send_metric(workspace, "acme", "api_calls", {0: 12.0, 1: 9.0, 2: 14.0})
    return accounts


def settled(page) -> None:
    """Wait until htmx has processed what it swapped in (it marks new content htmx-added
    until then): a click before that would follow the plain link instead."""
    page.wait_for_function("!document.querySelector('.htmx-added, .htmx-request')")


def stream_row_count(page) -> int:
    return page.locator("#usage-activity tr.activity-row").count()


def test_the_usage_panel_draws_its_charts(owner, history, login):
    page = login(owner)
    page.goto(f"/accounts/{history['acme'].pk}/")
    for chart in ("daily", "modules", "metric"):
        page.wait_for_selector(f'#usage [data-chart="{chart}"] canvas')
    assert page.locator("#usage canvas").count() >= 3
    box = page.locator('#usage [data-chart="daily"] canvas').first.bounding_box()
    assert box["width"] > 300 and box["height"] > 150
    assert page.locator("#usage .kpi").count() == 5
    assert page.locator("#usage .usage-windows tbody tr").count() == 7


def test_the_switch_rolls_up_the_children_without_leaving_the_page(owner, history, login):
    page = login(owner)
    page.goto(f"/accounts/{history['acme'].pk}/")
    page.wait_for_selector('#usage [data-chart="daily"] canvas')
    page.evaluate("window.__stayed = true")
    page.click("#usage >> text=Including child accounts")
    page.wait_for_selector("#usage .count:has-text('2 accounts')")
    settled(page)
    page.wait_for_url(re.compile(r"\?scope=children$"))
    assert page.evaluate("window.__stayed") is True
    # The charts are drawn again in the swapped panel; the other panels follow the scope.
    page.wait_for_selector('#usage [data-chart="daily"][data-drawn] canvas')
    assert page.locator("#usage .usage-windows tbody tr").first.inner_text().split() == [
        "Today",
        "4",
        "2",
        "3",
        "min",
    ]
    assert page.locator("#usage-activity th:has-text('Account')").count() == 1
    assert page.locator("#usage-users td:has-text('Acme EU')").count() >= 1
    page.click("#usage >> text=This account")
    page.wait_for_selector("#usage .count", state="detached")
    assert page.locator("#usage-activity th:has-text('Account')").count() == 0


def test_load_more_appends_older_activity_until_none_is_left(owner, history, workspace, login):
    send_events(workspace, [("acme", "u1", f"Step {i}", "Flow", 3, i, None) for i in range(20)])
    page = login(owner)
    page.goto(f"/accounts/{history['acme'].pk}/")
    assert stream_row_count(page) == 15
    first_rows = page.locator("#usage-activity tr.activity-row td.activity-name").all_inner_texts()
    page.click("#usage-activity >> text=Load more")
    page.wait_for_function(
        "document.querySelectorAll('#usage-activity tr.activity-row').length === 30"
    )
    settled(page)
    page.click("#usage-activity >> text=Load more")
    page.wait_for_function(
        "document.querySelectorAll('#usage-activity tr.activity-row').length === 33"
    )
    assert page.locator("#usage-activity >> text=Load more").count() == 0
    names = page.locator("#usage-activity tr.activity-row td.activity-name").all_inner_texts()
    assert names[:15] == first_rows
    assert names[-1] == "Nightly sync"


def test_the_stream_filters_by_module_and_by_user(owner, history, login):
    page = login(owner)
    page.goto(f"/accounts/{history['acme'].pk}/")
    page.select_option("#activity-module", "Reports")
    page.wait_for_function(
        "document.querySelectorAll('#usage-activity tr.activity-row').length === 5"
    )
    modules = page.locator("#usage-activity tr.activity-row td:nth-child(4)").all_inner_texts()
    assert set(modules) == {"Reports"}
    page.select_option("#activity-module", "")
    page.wait_for_function(
        "document.querySelectorAll('#usage-activity tr.activity-row').length === 13"
    )
    page.select_option("#activity-user", label="u2")
    page.wait_for_function(
        "document.querySelectorAll('#usage-activity tr.activity-row').length === 5"
    )
    settled(page)
    users = page.locator("#usage-activity tr.activity-row td:nth-child(2)").all_inner_texts()
    assert set(users) == {"u2"}
    page.click("#usage-activity >> text=Clear filters")
    page.wait_for_function(
        "document.querySelectorAll('#usage-activity tr.activity-row').length === 13"
    )


def test_clicking_a_module_bar_filters_the_stream(owner, history, login):
    page = login(owner)
    page.goto(f"/accounts/{history['acme'].pk}/")
    chart = page.wait_for_selector('#usage [data-chart="modules"][data-drawn]')
    chart.scroll_into_view_if_needed()  # panels above (health) may push it below the fold
    # Bars are drawn bottom-up: Admin, Reports, Core. Click the middle of the Reports bar.
    x, y = page.evaluate(
        """el => {
            const chart = echarts.getInstanceByDom(el);
            return chart.convertToPixel({seriesIndex: 0}, [2.5, 1]);
        }""",
        chart,
    )
    box = chart.bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_function("document.getElementById('activity-module').value === 'Reports'")
    page.wait_for_function(
        "document.querySelectorAll('#usage-activity tr.activity-row').length === 5"
    )


def test_end_users_page_and_sort_in_place(owner, history, workspace, login):
    send_events(
        workspace, [("acme", f"extra{i:02}", "Logged in", "Core", 3, i, None) for i in range(12)]
    )
    rollups.roll_up(now=NOW)
    page = login(owner)
    page.goto(f"/accounts/{history['acme'].pk}/")
    people = "#usage-users .person-name"
    assert page.locator(people).count() == 10
    assert page.locator(people).first.inner_text() == "u1"
    page.click("#usage-users >> text=Next →")
    page.wait_for_selector("#usage-users >> text=11–14 of 14")
    settled(page)
    assert page.locator(people).count() == 4
    page.click("#usage-users th >> text=Last seen")
    page.wait_for_selector("#usage-users th:has-text('Last seen ▲')")
    assert page.locator(people).first.inner_text() == "u2"


def test_the_list_sorts_by_each_usage_column_with_no_usage_last(owner, history, login):
    create_account(owner.actor, {"external_id": "quiet", "name": "Quiet"})
    page = login(owner)
    page.goto("/accounts/")
    names = "#account-results td.account-name a"
    assert page.locator("#account-results th:has-text('Active users')").count() == 1
    page.click("#account-results th >> text=Last seen")
    page.wait_for_url("**/accounts/?sort=-last_seen")
    assert page.locator(names).all_inner_texts() == ["Acme", "Acme EU", "Quiet"]
    page.click("#account-results th >> text=Last seen")
    page.wait_for_url("**/accounts/?sort=last_seen")
    assert page.locator(names).all_inner_texts() == ["Acme EU", "Acme", "Quiet"]
    page.click("#account-results th >> text=Frequency")
    page.wait_for_url("**/accounts/?sort=-visit_frequency")
    assert page.locator(names).all_inner_texts()[-1] == "Quiet"
    cell = page.locator("#account-results tr:has-text('Acme EU') td[title*='UTC']").first
    assert re.match(r"\w{3} \d+ \w{3} \d{4}, \d\d:\d\d \(UTC\)", cell.get_attribute("title"))
