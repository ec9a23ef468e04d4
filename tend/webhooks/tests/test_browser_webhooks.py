"""Settings → Webhooks in real Chromium: an admin adds an endpoint (the secret is shown once),
events from ordinary actions reach a real receiver, the log shows a failed and a delivered
delivery, the failed one opens with its attempts and is redelivered; an endpoint that
answered 410 shows as disabled with the reason; rotating the secret keeps the old one
signing for a day, until it is stopped from the page."""

import os

import pytest

from tend.accounts.actions.accounts import create_account
from tend.lib.outgoing.tests.servers import HttpServer, Reply
from tend.webhooks.models import Delivery, Subscription
from tend.webhooks.tests.conftest import deliver_everything, run_due_jobs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("TEND_SCREENSHOTS", "")


def shot(page, name: str) -> None:
    """Screenshots for looking at the pages (set TEND_SCREENSHOTS to a directory)."""
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_an_admin_adds_an_endpoint_reads_its_log_and_redelivers(owner, login, loopback_allowed):
    answers = iter([Reply(500, b"database is down")] + [Reply(204, b"")] * 20)
    with (
        HttpServer(lambda request: next(answers)) as server,
        HttpServer(lambda request: Reply(410, b"gone")) as gone,
    ):
        page = login(owner)
        page.goto("/settings/webhooks/")
        assert page.get_by_role("heading", name="No webhooks yet").is_visible()
        page.fill("input[name=url]", server.url("/tend"))
        page.fill("input[name=description]", "CRM sync")
        page.check("input[value='account.created']")
        page.check("input[value='health.rank_changed']")
        page.click("#new-webhook button[type=submit]")
        secret = page.locator("#secret-value").inner_text()
        assert secret.startswith("whsec_")
        subscription = Subscription.objects.get()
        assert subscription.secret == secret

        Subscription.objects.create(
            workspace=owner.workspace,
            url=gone.url("/old-endpoint"),
            event_types=["account.created"],
            secret_sealed=subscription.secret_sealed,
        )
        create_account(owner.actor, {"external_id": "acme", "name": "Acme"})
        run_due_jobs()  # the first attempt fails with a 500 and waits for its retry
        create_account(owner.actor, {"external_id": "globex", "name": "Globex"})
        run_due_jobs()

        page.goto("/settings/webhooks/")
        rows = page.locator("#webhooks tbody tr")
        assert rows.count() == 2
        assert "Disabled" in rows.nth(1).inner_text()
        shot(page, "webhooks-list")

        page.click(f"#webhook-{subscription.pk} a.webhook-url")
        log = page.locator("#delivery-log tbody tr")
        assert log.count() == 2
        assert "Retrying" in log.nth(1).inner_text() and "500" in log.nth(1).inner_text()
        assert "Delivered" in log.nth(0).inner_text()
        shot(page, "webhooks-detail")

        page.click("#delivery-log tbody tr:nth-child(2) a")
        assert "database is down" not in page.locator("#attempts").inner_text()  # folded
        page.locator("#attempts summary").first.click()
        assert "database is down" in page.locator("#attempts").inner_text()
        page.click("text=Redeliver")
        page.wait_for_selector("text=Queued: the next attempt starts within seconds.")
        deliver_everything()
        page.reload()
        assert page.locator("#delivery-status").inner_text() == "Delivered"
        page.locator("#attempts .webhook-attempt").first.locator("summary").click()
        shot(page, "webhooks-delivery")

        page.goto(
            f"/settings/webhooks/{Subscription.objects.exclude(pk=subscription.pk).get().pk}/"
        )
        assert "410" in page.locator("#disabled-banner").inner_text()
        shot(page, "webhooks-disabled")

        # Rotate keeping the old secret for a day: the page says both sign, then stop it.
        page.goto(f"/settings/webhooks/{subscription.pk}/")
        page.once("dialog", lambda dialog: dialog.accept())
        assert page.locator("#keep-previous").input_value() == "24"
        page.click("#rotate-secret button[type=submit]")
        new_secret = page.locator("#secret-value").inner_text()
        assert new_secret.startswith("whsec_") and new_secret != secret
        assert "also signs until" in page.locator("#previous-secret").inner_text()
        shot(page, "webhooks-rotated")
        page.click("text=Stop the previous secret now")
        page.wait_for_selector("text=The previous secret no longer signs deliveries.")
        assert page.locator("#previous-secret").count() == 0
        subscription.refresh_from_db()
        assert subscription.secret == new_secret and not subscription.previous_secret_sealed
    assert Delivery.objects.filter(subscription=subscription, status="delivered").count() == 2
