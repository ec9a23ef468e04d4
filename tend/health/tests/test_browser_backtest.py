"""The back-test report in real Chromium: from the profile editor to the report, its charts
drawn, then another number of days before churn chosen."""

import os

import pytest

from tend.health.models import HealthProfile
from tend.health.tests import churn_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = os.environ.get("TEND_SCREENSHOTS")  # a directory to keep screenshots in


def test_a_member_opens_the_back_test_from_the_editor_and_reads_it(login, owner, workspace):
    churn_world.build(owner)
    profile = HealthProfile.objects.get(workspace=workspace, is_default=True)
    page = login(owner)
    page.goto(f"/health/profiles/{profile.pk}/")
    page.get_by_role("link", name="Back-test").click()
    page.wait_for_url(f"**/health/profiles/{profile.pk}/backtest/")
    page.wait_for_selector('[data-backtest-chart="distribution"][data-drawn] canvas')
    page.wait_for_selector('[data-backtest-chart="roc"][data-drawn] canvas')
    assert page.locator("#kpi-poor .kpi-value").inner_text().replace("\n", "") == "66.7%"
    assert page.locator("#kpi-false-alarms .kpi-value").inner_text().replace("\n", "") == "25.0%"
    assert page.locator("#kpi-auc .kpi-value").inner_text() == "0.83"
    assert "Active days, last 14 days" in page.locator("#best-metric").inner_text()
    assert page.locator("#churned-accounts tbody tr").count() == 5
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, "backtest.png"), full_page=True)

    page.select_option("#id_days_before", "90")
    page.get_by_role("button", name="Run the back-test").click()
    page.wait_for_url("**days_before=90**")
    assert "None could be scored 90 days before it churned" in page.inner_text("#backtest-report")
    assert page.locator("[data-backtest-chart]").count() == 0
    # The churned accounts link to their profiles, where the churn date shows.
    page.get_by_role("link", name="Gone-Fading").click()
    page.wait_for_selector("text=Churned on")
