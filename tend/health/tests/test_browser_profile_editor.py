"""In the browser: edit a profile and watch the live preview change, save it, and find the
new version in the history."""

import os
import re

import pytest

from tend.health.actions import preview as previewing
from tend.health.actions.profiles import create_profile
from tend.health.actions.scoring import score_workspace
from tend.health.models import HealthProfile
from tend.health.tests.populations import add_accounts, plan_attribute, weighted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("TEND_SCREENSHOTS", "")


def shot(page, name: str) -> None:
    """Screenshots for looking at the pages (set TEND_SCREENSHOTS to a directory)."""
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.fixture
def population(workspace):
    previewing.cache.clear()
    plan_attribute(workspace)
    add_accounts(
        workspace,
        [
            ("northwind", "paying", 10, {"plan": "enterprise"}),
            ("contoso", "paying", 5, {"plan": "growth"}),
            ("fabrikam", "paying", 6, {"plan": "growth"}),
            ("initech", "paying", 2, {"plan": "starter"}),
            ("umbrella", "paying", 0, {"plan": "starter"}),
            ("globex", "trial", 7, None),
            ("hooli", "free", None, None),
        ],
    )
    score_workspace(workspace)
    yield
    previewing.cache.clear()


def changed_rank(page) -> str:
    return page.locator('[data-testid="changed-rank"]').inner_text()


def test_editing_a_threshold_updates_the_preview_and_saving_makes_a_version(
    workspace, owner, population, login, page
):
    login(owner)
    page.goto("/health/profiles/")
    page.get_by_role("link", name="Classic usage rank").click()
    page.wait_for_selector('[data-testid="changed-rank"]')
    assert changed_rank(page) == "0"
    assert page.locator('[data-testid="paying-good"]').inner_text() == "3"

    # Good from 8 active days instead of 4: contoso (5) and fabrikam (6) fall to Average.
    page.fill("#d-0-m-0-good", "8")
    page.wait_for_function(
        "document.querySelector('[data-testid=\"changed-rank\"]').textContent.trim() === '3'"
    )
    assert page.locator('[data-testid="paying-good"]').inner_text() == "1"
    assert page.locator('[data-testid="paying-average"]').inner_text() == "3"
    movers = page.locator(".movers-table tbody tr")
    assert movers.count() == 3
    assert "Contoso" in page.locator(".movers-table").inner_text()
    shot(page, "editor-preview")

    # A bound out of order is named beside its field, and the preview says why.
    page.fill("#d-0-m-0-poor", "9")
    page.wait_for_selector('[data-field="d-0-m-0-poor"].has-error')
    assert (
        "must not be above good" in page.locator('[data-field="d-0-m-0-poor"] .error').inner_text()
    )
    assert "cannot be scored yet" in page.locator("#preview").inner_text()
    shot(page, "editor-error")
    page.fill("#d-0-m-0-poor", "1")
    page.wait_for_selector('[data-field="d-0-m-0-poor"]:not(.has-error)')
    page.wait_for_selector('[data-testid="changed-rank"]')

    page.fill("#note", "Good needs two active days a week")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector(".flash-success")
    assert "Saved as version 2" in page.locator(".flash-success").inner_text()
    profile = HealthProfile.objects.get(is_default=True)
    assert profile.current_version.definition["metrics"][0]["good"] == 8

    page.get_by_role("link", name="Version history").click()
    rows = page.locator("#versions tbody tr")
    assert rows.first.get_attribute("data-version") == "2"
    assert "Good needs two active days a week" in rows.first.inner_text()
    assert "Current" in rows.first.inner_text()
    shot(page, "versions")
    page.get_by_role("link", name="Compare with 1").click()
    assert page.locator("#compare dd.changed").count() == 2
    shot(page, "compare")


def test_a_weighted_profile_is_edited_dimension_by_dimension(
    workspace, owner, population, login, page
):
    profile = create_profile(
        owner.actor,
        {
            "name": "Enterprise",
            "description": "Enterprise accounts: usage and reach",
            "condition": {"all": [{"field": "attributes.plan", "op": "eq", "value": "enterprise"}]},
            "definition": weighted(
                ("usage", 60, [("usage.active_days_14d", 100, 4, 1)]),
                ("reach", 40, [("usage.active_users_14d", 100, 3, 1)]),
            ),
        },
    )
    login(owner)
    page.goto(f"/health/profiles/{profile.pk}/")
    page.wait_for_selector('[data-testid="changed-rank"]')
    assert page.locator(".clause-row").count() == 1

    # A second metric in the usage dimension takes what is left of 100%: nothing yet.
    page.locator("#dimension-0").get_by_role("button", name="+ Add a metric").click()
    page.wait_for_selector("#d-0-m-1-source")
    assert page.input_value("#d-0-m-1-weight") == "0"
    page.fill("#d-0-m-0-weight", "60")
    page.wait_for_selector('[data-field="d-0-metrics"].has-error')
    assert page.locator('[data-sum="d-0-metrics"]').inner_text() == "60%"
    assert "sum to 100%" in page.locator('[data-field="d-0-metrics"] .error').inner_text()
    page.fill("#d-0-m-1-weight", "40")
    page.wait_for_selector('[data-field="d-0-metrics"]:not(.has-error)')
    page.wait_for_function(
        "document.querySelector('[data-sum=\"d-0-metrics\"]').textContent.trim() === '100%'"
    )

    # Widen the condition to growth accounts too: the preview moves them to this profile.
    page.select_option("#c-0-op", "in")
    page.wait_for_selector("#c-0-value[type=text]")
    page.fill("#c-0-value", "enterprise, growth")
    page.wait_for_function(
        "document.querySelector('[data-testid=\"changed-rank\"]') && "
        "document.querySelector('.movers-table') && "
        "document.querySelector('.movers-table').textContent.includes('Enterprise')"
    )
    assert re.search(
        r"Classic usage rank\s*→\s*Enterprise", page.locator(".movers-table").inner_text()
    )
    shot(page, "editor-weighted")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector(".flash-success")
    profile.refresh_from_db()
    assert profile.condition == {
        "all": [{"field": "attributes.plan", "op": "in", "value": ["enterprise", "growth"]}]
    }
    metrics = profile.current_version.definition["dimensions"][0]["metrics"]
    assert [m["weight"] for m in metrics] == [60, 40]
    page.goto("/health/profiles/")
    assert "Plan is any of enterprise, growth" in page.locator("#profiles").inner_text()
    shot(page, "profiles")
