"""In Chromium: follow an account, its rank turns Poor, the alert appears under the bell."""

import os

import pytest

from tend.alerts.engine import poll_workspace
from tend.health.actions.scoring import score_workspace
from tend.notifications.models import Notification
from tend.segments.actions.segments import create_segment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("TEND_SCREENSHOTS")  # a directory, to look at the pages


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_a_followed_account_turning_poor_rings_the_bell(login, owner, practitioner, acme, make_rule):
    rule = make_rule()
    page = login(practitioner)

    page.goto(f"/accounts/{acme.pk}/")
    assert page.locator("#bell-count").inner_text() == ""
    page.click("button.follow-button")
    page.wait_for_selector("button.follow-button.following")
    shot(page, "profile-following")

    score_workspace(owner.workspace)  # never used: ranked Poor
    assert poll_workspace(owner.workspace)["sent"] == 1

    page.reload()
    assert page.locator("#bell-count").inner_text() == "1"
    page.click("a.bell")
    page.wait_for_url("**/notifications/")
    item = page.locator(".notification.unread")
    assert "Health turned Poor: Acme Corp" in item.inner_text()
    shot(page, "notifications")

    page.click(".notification.unread button:has-text('Mark read')")
    page.wait_for_selector(".notification:not(.unread)")
    assert page.locator("#bell-count").inner_text() == ""
    assert Notification.objects.get().read_at is not None

    page.click(".notification-title")
    page.wait_for_url(f"**/accounts/{acme.pk}/")

    page.goto(f"/alerts/{rule.pk}/")
    assert "Acme Corp" in page.locator("table").inner_text()
    assert page.locator("a:has-text('Edit')").count() == 0  # a practitioner reads rules only
    shot(page, "rule-detail")


def test_an_admin_writes_a_rule_and_follows_a_segment(login, owner):
    segment = create_segment(owner.actor, {"name": "Enterprise", "visibility": "shared", "condition": {"all": []}})
    page = login(owner)
    page.goto("/alerts/new/")
    page.fill("#id_name", "Cancellations")
    page.select_option("#id_kind", "event_received")
    assert page.locator("#id_to_rank").is_hidden()
    page.fill("#id_activity", "subscription_cancelled")
    page.check("input[name=email]")
    shot(page, "alert-editor")
    page.click("form.alert-rule-form button[type=submit]")
    page.wait_for_url("**/alerts/")
    assert "Event “subscription_cancelled” arrived" in page.locator("table").inner_text()
    shot(page, "alert-rules")

    page.goto(f"/segments/{segment.pk}/")
    page.click("button.follow-button")
    page.wait_for_selector("button.follow-button.following")
    shot(page, "segment-following")
    page.goto("/following/")
    assert "Enterprise" in page.locator(".follow-list").inner_text()
    shot(page, "following")
