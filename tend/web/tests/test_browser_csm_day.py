"""The issue's scenario in one Chromium session, as a CSM lives it: log a touchpoint with a
follow-up task on an account, see both on its timeline, follow the account, and — when the
health scoring turns it Poor and the alert rule fires — find the in-app notification under
the bell (count, list, mark read). And the digest's pages: the preview of today's email,
and its unsubscribe link opened without a session.

Lives in ``web`` (the assembly layer): it crosses work, alerts, health, notifications and
the digest."""

import datetime
import os
from pathlib import Path

import pytest
from django.utils import timezone

from tend.alerts.actions import create_rule, follow
from tend.alerts.engine import poll_workspace
from tend.digest.models import DigestSetting
from tend.digest.tokens import unsubscribe_token
from tend.health.actions.scoring import score_workspace
from tend.health.models import HealthChange
from tend.notifications.models import Notification
from tend.work.actions import create_task
from tend.work.models import Task, Touchpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("TEND_SHOTS")  # a directory: save screenshots there to look at


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"day-{name}.png"), full_page=True)


@pytest.fixture
def acme(workspace):
    from tend.accounts.models import Account

    return Account.objects.create(workspace=workspace, external_id="acme", name="Acme Corp")


def test_a_csm_logs_a_touchpoint_follows_the_account_and_hears_it_turn_poor(
    login, owner, practitioner, acme, settings, tmp_path
):
    settings.TEND_ATTACHMENT_DIR = tmp_path / "attachments"
    create_rule(
        owner.actor,
        {
            "name": "Health turned Poor",
            "trigger": {"kind": "health_changed", "config": {"to_rank": "poor"}},
            "followers": True,
        },
    )
    page = login(practitioner)
    page.on("dialog", lambda dialog: pytest.fail(f"a script ran: {dialog.message}"))

    # 1. Log a touchpoint with a follow-up task from the account's profile.
    page.goto(f"/accounts/{acme.pk}/")
    assert page.locator("#bell-count").inner_text() == ""
    page.locator("#log-touchpoint summary").click()
    form = page.locator("#log-touchpoint form")
    form.locator("select[name=type]").select_option("call")
    form.locator("input[name=subject]").fill("Renewal check-in")
    form.locator("textarea[name=body]").fill("They want **SSO** before renewing.")
    form.locator("input[name=sentiment][value=negative]").check()
    form.locator("input[name=follow_up]").check()
    form.locator("input[name=follow_up_title]").fill("Send the SSO timeline")
    form.locator("input[name=follow_up_due]").fill("2031-01-15")
    form.locator("input[name=attachments]").set_input_files(
        [{"name": "sso-requirements.txt", "mimeType": "text/plain", "buffer": b"SAML, SCIM"}]
    )
    form.get_by_role("button", name="Log touchpoint").click()

    # 2. Both are on the timeline.
    page.wait_for_url(f"**/accounts/{acme.pk}/#timeline")
    timeline = page.locator("#timeline")
    assert "Call: Renewal check-in" in timeline.inner_text()
    assert "Task created: Send the SSO timeline" in timeline.inner_text()
    assert timeline.locator(".tl-text strong").inner_text() == "SSO"
    task = Task.objects.get(title="Send the SSO timeline")
    assert Touchpoint.objects.get().follow_up_task == task and task.assignee == practitioner.member
    # The attached file is listed under the item and downloads.
    with page.expect_download() as download:
        timeline.get_by_role("link", name="sso-requirements.txt").click()
    assert download.value.suggested_filename == "sso-requirements.txt"
    assert Path(download.value.path()).read_bytes() == b"SAML, SCIM"
    shot(page, "scenario-timeline")
    timeline.get_by_role("link", name="Call: Renewal check-in").click()
    page.wait_for_url("**/touchpoints/*/")
    assert "sso-requirements.txt" in page.locator("#attachments").inner_text()
    shot(page, "scenario-touchpoint")
    page.goto(f"/accounts/{acme.pk}/")

    # 3. Follow the account.
    page.click("button.follow-button")
    page.wait_for_selector("button.follow-button.following")

    # 4. The scoring ranks it Poor (no usage at all); the rule polls and fires.
    score_workspace(owner.workspace)
    assert HealthChange.objects.get(account=acme).to_rank == "poor"
    assert poll_workspace(owner.workspace)["sent"] == 1

    # 5. The bell counts it; its list shows it, links to the account, marks it read.
    page.reload()
    assert page.locator("#bell-count").inner_text() == "1"
    assert "Health: " in page.locator("#timeline").inner_text()  # the change is on the timeline too
    page.click("a.bell")
    page.wait_for_url("**/notifications/")
    item = page.locator(".notification.unread")
    assert item.count() == 1 and "Health turned Poor: Acme Corp" in item.inner_text()
    shot(page, "scenario-notifications")
    page.click(".notification.unread button:has-text('Mark read')")
    page.wait_for_selector(".notification:not(.unread)")
    assert page.locator("#bell-count").inner_text() == ""
    note = Notification.objects.get()
    assert note.member == practitioner.member and note.read_at is not None
    page.click(".notification-title")
    page.wait_for_url(f"**/accounts/{acme.pk}/")


def test_the_digest_preview_and_the_unsubscribe_link(page, login, practitioner, acme):
    me = practitioner.member
    follow(me, account=acme)
    HealthChange.objects.create(
        workspace=acme.workspace, account=acme, from_rank="good", to_rank="poor",
        changed_at=timezone.now() - datetime.timedelta(hours=1),
    )  # fmt: skip
    create_task(
        practitioner.actor, acme, {"title": "Call the sponsor", "due_date": timezone.localdate()}
    )
    login(practitioner)
    page.goto("/digest/preview/")
    assert page.locator("h1").inner_text() == "My daily digest"
    body = page.inner_text("body")
    assert "Health Good → Poor" in body and "Acme Corp" in body and "Call the sponsor" in body
    shot(page, "digest-preview")

    # The link from the email, opened where nobody is logged in: GET asks, POST unsubscribes.
    context = page.context.browser.new_context(base_url=page.url.split("/digest/")[0])
    anonymous = context.new_page()
    link = f"/digest/unsubscribe/{unsubscribe_token(me)}/"
    anonymous.goto(link)
    assert "Stop the daily digest?" in anonymous.inner_text("body")
    assert practitioner.member.user.email in anonymous.inner_text("body")
    shot(anonymous, "digest-unsubscribe")
    assert (
        DigestSetting.objects.filter(member=me, enabled=False).count() == 0
    )  # a GET changes nothing
    anonymous.get_by_role("button", name="Unsubscribe from the daily digest").click()
    anonymous.wait_for_selector("h2:has-text('Unsubscribed')")
    shot(anonymous, "digest-unsubscribed")
    assert DigestSetting.objects.get(member=me).enabled is False
    # A tampered token is refused and changes nothing for anyone.
    refused = anonymous.goto(link[:-5] + "xxxx/")
    assert refused.status == 400
    context.close()

    # Back in the logged-in session: the preview says the emails are off.
    page.reload()
    assert "digest emails are off" in page.inner_text("body")
