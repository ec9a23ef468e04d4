"""Health in real Chromium: click a donut slice and land on the filtered list, click a
breakdown segment, switch the breakdown in place, open an account and read its explanation."""

import re
from urllib.parse import parse_qs, urlparse

import pytest

from tend.accounts.actions.accounts import create_account
from tend.accounts.models import Account
from tend.health import sources
from tend.health.actions.scoring import score_workspace
from tend.health.tests.health_world import build_world, set_health, use

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(owner, workspace):
    """The health world scored for real from usage: Acme uses the product most days (Good),
    Globex on 2 of the last 14 days (Average); the others not lately (Poor)."""
    accounts = build_world(owner)
    use(workspace, "acme", 0, 1, 2, 3)
    use(workspace, "globex", 2, 9)
    use(workspace, "initech", 20)
    score_workspace(workspace)
    return accounts


def settled(page) -> None:
    """Wait until htmx has processed what it swapped in."""
    page.wait_for_function("!document.querySelector('.htmx-added, .htmx-request')")


def lands_on(page, path: str, **params) -> None:
    """Wait until the page is ``path`` with exactly these query parameters (in any order)."""

    def matches(url: str) -> bool:
        parsed = urlparse(url)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        return parsed.path == path and query == {k: str(v) for k, v in params.items()}

    page.wait_for_url(matches)


def listed(page) -> set[str]:
    return set(page.locator(".accounts-table td.account-name > a").all_inner_texts())


def click_slice(page, index: int) -> None:
    """Click the middle of the donut's slice ``index`` where ECharts laid it out."""
    chart = page.wait_for_selector('[data-chart="donut"][data-drawn] canvas')
    point = page.evaluate(
        """(index) => {
            const element = document.querySelector('[data-chart="donut"]');
            const chart = echarts.getInstanceByDom(element);
            const layout = chart.getModel().getSeriesByIndex(0).getData().getItemLayout(index);
            const angle = (layout.startAngle + layout.endAngle) / 2;
            const radius = (layout.r0 + layout.r) / 2;
            return [layout.cx + radius * Math.cos(angle), layout.cy + radius * Math.sin(angle)];
        }""",
        index,
    )
    box = chart.bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])


def click_segment(page, rank: str, group: int) -> None:
    """Click the middle of a stacked bar's segment (the ``rank`` series, bar ``group``)."""
    chart = page.wait_for_selector('[data-chart="breakdown"][data-drawn] canvas')
    point = page.evaluate(
        """([rank, group]) => {
            const element = document.querySelector('[data-chart="breakdown"]');
            const data = JSON.parse(document.getElementById(element.dataset.source).textContent);
            const chart = echarts.getInstanceByDom(element);
            let before = 0, series = 0;
            for (; data.series[series].rank !== rank; series++) before += data.series[series].values[group];
            const middle = before + data.series[series].values[group] / 2;
            return chart.convertToPixel({seriesIndex: series}, [middle, group]);
        }""",
        [rank, group],
    )
    box = chart.bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])


def test_clicking_a_donut_slice_lands_on_the_list_filtered_to_that_rank(owner, world, login):
    page = login(owner)
    page.goto("/health/")
    assert page.locator(".rank-row[data-rank=poor] .rank-count").inner_text() == "3"
    click_slice(page, 2)  # Good, Average, Poor
    lands_on(page, "/accounts/", status="paying", health="poor")
    assert listed(page) == {"Initech", "Umbrella", "Hooli"}
    assert page.locator("select[name=health]").input_value() == "poor"
    assert page.locator("select[name=status]").input_value() == "paying"
    page.go_back()
    click_slice(page, 0)
    lands_on(page, "/accounts/", status="paying", health="good")
    assert listed(page) == {"Acme"}


def test_clicking_a_breakdown_segment_opens_those_accounts(owner, world, login):
    page = login(owner)
    page.goto("/health/")
    assert page.locator("#health-breakdown h2").inner_text() == "Paying accounts by success manager"
    click_segment(page, "poor", 0)  # Alice Anders' Poor accounts
    alice, role = world["members"]["alice"], world["role"]
    lands_on(page, "/accounts/", status="paying", health="poor", owner=alice.pk, role=role.pk)
    assert listed(page) == {"Initech"}
    assert page.locator("select[name=owner] option:checked").inner_text() == "Alice Anders"


def test_the_breakdown_switches_in_place_and_its_segments_still_drill_down(owner, world, login):
    page = login(owner)
    page.goto("/health/")
    page.wait_for_selector('[data-chart="breakdown"][data-drawn] canvas')
    page.evaluate("window.__stayed = true")
    page.select_option("#breakdown-by", "attr:plan")
    page.wait_for_selector("#health-breakdown h2:has-text('Paying accounts by plan')")
    settled(page)
    lands_on(page, "/health/", by="attr:plan")
    assert page.evaluate("window.__stayed") is True
    click_segment(page, "average", 0)  # Gold accounts ranked Average
    lands_on(page, "/accounts/", status="paying", health="average", attr="plan:Gold")
    assert listed(page) == {"Globex"}
    assert page.locator("select[name=attr]").input_value() == "plan:Gold"


def test_open_an_account_from_the_dashboard_and_read_its_explanation(owner, world, login):
    page = login(owner)
    page.goto("/health/")
    page.click(".rank-row[data-rank=average] a")
    lands_on(page, "/accounts/", status="paying", health="average")
    page.click(".accounts-table >> text=Globex")
    page.wait_for_url(re.compile(rf"/accounts/{world['globex'].pk}/$"))
    health = page.locator("#health")
    assert health.locator(".rank-big").inner_text() == "Average"
    assert "Why Average" in health.locator(".health-section h3").first.inner_text()
    row = health.locator(".health-explanation tr.metric-row").first
    cells = row.locator("td").all_inner_texts()
    assert cells[0].startswith("Active days, last 14 days")
    assert "Good at 4 or more · Poor below 1" in cells[0]
    assert cells[1:3] == ["2", "Average"]
    lift = health.locator(".health-lift").inner_text()
    assert "Active days, last 14 days: 2 → 4 would make it Good" in lift
    # The usage panel follows, and the list's columns agree with the panel.
    assert page.locator("#usage").count() == 1


def test_the_dashboard_charts_are_drawn_without_errors(owner, world, workspace, login):
    errors = []
    page = login(owner)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/health/")
    for chart in ("donut", "breakdown"):
        page.wait_for_selector(f'[data-chart="{chart}"][data-drawn] canvas')
    box = page.locator('[data-chart="donut"] canvas').bounding_box()
    assert box["width"] >= 200 and box["height"] >= 200
    page.goto(f"/accounts/{Account.objects.get(external_id='acme').pk}/")
    page.wait_for_selector("#health .health-explanation")
    assert errors == []


def test_the_history_chart_brings_its_charting_library_when_no_usage_panel_does(
    owner, workspace, login
):
    account = create_account(
        owner.actor, {"external_id": "quiet", "name": "Quiet", "status": "paying"}
    )
    set_health(account, "average", day=sources.local_today(workspace) - 10)
    set_health(account, "poor")
    page = login(owner)
    page.goto(f"/accounts/{account.pk}/")
    page.wait_for_selector('#health [data-chart="history"][data-drawn] canvas')
    page.wait_for_selector('#health [data-chart="sparkline"][data-drawn] canvas')
    assert page.locator("#usage [data-chart]").count() == 0
    assert page.locator('script[src*="echarts"]').count() == 1


def test_with_the_usage_panel_the_charting_library_loads_once(owner, world, login):
    set_health(world["globex"], "good", day=sources.local_today(world["globex"].workspace) - 5)
    page = login(owner)
    requests = []
    page.on("request", lambda r: requests.append(r.url) if "echarts" in r.url else None)
    page.goto(f"/accounts/{world['globex'].pk}/")
    page.wait_for_selector('#health [data-chart="history"][data-drawn] canvas')
    page.wait_for_selector('#usage [data-chart="daily"][data-drawn] canvas')
    assert len(requests) == 1
