"""In real Chromium: an account's health explained on a past day — from a change of rank, from
a day picked in the panel, from a day clicked on the history chart — and back to today."""

import re

import pytest

from tend.accounts.actions.accounts import create_account
from tend.accounts.models import Account
from tend.health import sources
from tend.health.actions.history import backfill_history
from tend.health.actions.scoring import score_workspace
from tend.health.tests.churn_world import use
from tend.lib.dates import date_of
from tend.usage.rollups import roll_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme(workspace, owner) -> Account:
    """Used every day from T-60 to T-31, then not at all: Good from T-30, Average from T-20
    (3 active days in 14), Poor from T-17."""
    t = sources.local_today(workspace)
    create_account(owner.actor, {"external_id": "acme", "name": "Acme", "status": "paying"})
    use(workspace, "acme", list(range(t - 60, t - 30)))
    roll_up()
    backfill_history(workspace, 30)
    score_workspace(workspace)
    return Account.objects.get(external_id="acme")


def explained(page, day) -> str:
    """Wait for the explanation of ``day`` (a date) and return its text."""
    block = page.locator(f'#health-explanation[data-date="{day.isoformat()}"]')
    block.wait_for()
    page.wait_for_function("!document.querySelector('.htmx-request, .htmx-settling')")
    return block.inner_text()


def test_a_member_reads_the_explanation_of_past_days_and_comes_back_to_today(
    owner, workspace, acme, login
):
    t = sources.local_today(workspace)
    errors = []
    page = login(owner)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"/accounts/{acme.pk}/")
    assert "Why Poor" in explained(page, date_of(t))

    # A change of rank in the list: the day acme dropped to Average.
    day = date_of(t - 20)
    page.locator(
        '[data-testid="explain-change"]', has_text=f"{day:%b} {day.day}, {day.year}"
    ).click()
    text = explained(page, date_of(t - 20))
    assert "Why Average" in text and "What would have lifted it then" in text
    row = page.locator("#health-explanation tr.metric-row").first.locator("td").all_inner_texts()
    assert row[1:3] == ["3", "Average"]
    page.wait_for_url(re.compile(rf"\?health_date={date_of(t - 20).isoformat()}$"))

    # A day picked in the panel.
    page.fill("#health-date", date_of(t - 25).isoformat())
    page.click("#health-explanation button[type=submit]")
    assert "Why Good" in explained(page, date_of(t - 25))

    # A day clicked on the history chart (90 days, today last).
    canvas = page.wait_for_selector('#health [data-chart="history"][data-drawn] canvas')
    point = page.evaluate(
        """(index) => {
            const element = document.querySelector('[data-chart="history"]');
            const data = JSON.parse(document.getElementById(element.dataset.source).textContent);
            const chart = echarts.getInstanceByDom(element);
            return chart.convertToPixel({seriesIndex: 0}, [index, data.scores[index]]);
        }""",
        89 - 18,
    )
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    assert "Why Average" in explained(page, date_of(t - 18))

    # A reload keeps the day; "Back to today" leaves it.
    page.reload()
    assert "Why Average" in explained(page, date_of(t - 18))
    page.click('[data-testid="explain-today"]')
    assert "Why Poor" in explained(page, date_of(t))
    page.wait_for_url(re.compile(rf"/accounts/{acme.pk}/$"))
    assert errors == []


def test_a_day_before_the_history_is_refused_beside_the_date(owner, workspace, acme, login):
    t = sources.local_today(workspace)
    page = login(owner)
    page.goto(f"/accounts/{acme.pk}/")
    page.fill("#health-date", date_of(t - 45).isoformat())
    page.click("#health-explanation button[type=submit]")
    error = page.locator("#health-date-error")
    error.wait_for()
    assert "history starts on" in error.inner_text()
    assert "Why Poor" in page.locator("#health-explanation").inner_text()
