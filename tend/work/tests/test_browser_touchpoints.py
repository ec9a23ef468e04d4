"""Touchpoints in real Chromium: log one with a follow-up task from the account profile's
panel, see it (and the task) at the top of the timeline with its Markdown rendered and its
script inert; filter the timeline to touchpoints; scroll it to load older items."""

import datetime

import pytest
from django.utils import timezone

from tend.accounts.models import AttributeChange
from tend.work.models import Task, Touchpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_a_touchpoint_with_a_follow_up_and_see_it_on_the_timeline(page, login, owner, acme):
    # Older history: enough for two pages of the timeline.
    start = timezone.now() - datetime.timedelta(days=10)
    AttributeChange.objects.bulk_create(
        [
            AttributeChange(
                workspace=acme.workspace, account=acme, key="seats", from_value=n, to_value=n + 1,
                changed_at=start + datetime.timedelta(hours=n),
            )
            for n in range(30)
        ]
    )  # fmt: skip
    page.on("dialog", lambda dialog: pytest.fail(f"a script ran: {dialog.message}"))
    login(owner)
    page.goto(f"/accounts/{acme.pk}/")
    page.locator("#log-touchpoint summary").click()
    form = page.locator("#log-touchpoint form")
    form.locator("select[name=type]").select_option("meeting")
    form.locator("input[name=subject]").fill("Kickoff with the champion")
    form.locator("textarea[name=body]").fill("Agreed on **SSO** first.<script>alert(1)</script>")
    form.locator("input[name=sentiment][value=positive]").check()
    form.locator("input[name=follow_up]").check()
    form.locator("input[name=follow_up_title]").fill("Send the SSO guide")
    form.locator("input[name=follow_up_due]").fill("2031-01-15")
    form.get_by_role("button", name="Log touchpoint").click()

    page.wait_for_url(f"**/accounts/{acme.pk}/#timeline")
    first = page.locator("#timeline .tl-item").first
    assert first.locator(".tl-title").inner_text() in (
        "Meeting: Kickoff with the champion",
        "Task created: Send the SSO guide",
    )
    timeline = page.locator("#timeline")
    assert "Meeting: Kickoff with the champion" in timeline.inner_text()
    assert "Task created: Send the SSO guide" in timeline.inner_text()
    assert timeline.locator(".tl-text strong").inner_text() == "SSO"
    touchpoint = Touchpoint.objects.get()
    assert touchpoint.follow_up_task == Task.objects.get(title="Send the SSO guide")

    # Filter to touchpoints: the list swaps in place.
    page.select_option("#timeline-kind", "touchpoint")
    page.wait_for_function("document.querySelectorAll('#timeline .tl-item').length === 1")
    page.select_option("#timeline-kind", "")
    page.wait_for_function("document.querySelectorAll('#timeline .tl-item').length === 20")

    # Scrolling the list to its end loads the older items.
    page.locator("#timeline-list").evaluate("list => list.scrollTop = list.scrollHeight")
    page.wait_for_function("document.querySelectorAll('#timeline .tl-item').length === 32")
    assert page.locator("#timeline .tl-end").inner_text() == "That is the whole timeline."
