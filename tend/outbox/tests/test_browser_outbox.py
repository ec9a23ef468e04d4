"""The outbox in real Chromium: mail delivered to, delayed and refused by a real SMTP server
shows up with its counts; a refused message opens with its sandboxed HTML and delivery log,
and "Retry now" delivers it once the server accepts."""

import os

import pytest

from tend.outbox.actions import queue_email
from tend.outbox.models import Message, MessageStatus
from tend.outbox.rendering import render_markdown_email
from tend.outbox.tests.conftest import run_jobs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("TEND_SCREENSHOTS", "")


def shot(page, name: str) -> None:
    """Screenshots for looking at the pages (set TEND_SCREENSHOTS to a directory)."""
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def settled(page) -> None:
    page.wait_for_function("!document.querySelector('.htmx-request, .htmx-added, .htmx-settling')")


def send(workspace, to, name):
    email = render_markdown_email(
        "Kickoff for {{ account.name }}",
        "Hi {{ contact }},\n\nWelcome aboard, **{{ account.name }}**! Your CSM is {{ csm }}.\n\n"
        "* Book your kickoff call\n* Invite your team",
        {"account": {"name": name}, "contact": to.split("@")[0].title(), "csm": "Maya Patel"},
    )
    return queue_email(
        workspace,
        to=[to],
        subject=email.subject,
        text=email.text,
        html=email.html,
        source="plays.send_email",
    )


def test_an_admin_reads_the_outbox_and_retries_a_refused_message(owner, login, smtp_server):
    smtp_server.rcpt_replies["gone@globex.test"] = (
        "550 5.1.1 <gone@globex.test>: Recipient address rejected"
    )
    smtp_server.data_replies = []
    send(owner.workspace, "ada@acme.test", "Acme")
    refused = send(owner.workspace, "gone@globex.test", "Globex")
    run_jobs()
    smtp_server.data_replies = ["451 4.7.1 Greylisted, come back in 60 s"]
    busy = send(owner.workspace, "bo@initech.test", "Initech")
    run_jobs()
    assert [Message.objects.get(pk=m.pk).status for m in (refused, busy)] == ["failed", "retrying"]

    page = login(owner)
    page.goto("/settings/outbox/")
    assert page.locator(".job-tab.active").inner_text().startswith("All")
    assert page.locator('.job-tab:has-text("Failed") .job-tab-count').inner_text() == "1"
    assert page.locator('.job-tab:has-text("Sent") .job-tab-count').inner_text() == "1"
    assert page.locator("tbody tr").count() == 3
    shot(page, "outbox-list")

    page.click('.job-tab:has-text("Failed")')
    settled(page)
    page.wait_for_url("**/settings/outbox/?status=failed")
    assert page.locator("tbody tr").count() == 1
    assert "Recipient address rejected" in page.locator("tbody tr").inner_text()

    page.click("text=Kickoff for Globex")
    page.wait_for_url(f"**/settings/outbox/{refused.pk}/")
    assert page.locator("#message-status").inner_text() == "Failed"
    frame_element = page.locator("iframe.outbox-html")
    assert frame_element.get_attribute("sandbox") == ""
    frame = page.frame_locator("iframe.outbox-html")
    assert frame.locator("strong").inner_text() == "Globex"
    assert "Book your kickoff call" in frame.locator("li").first.inner_text()
    assert refused.message_id in page.locator("#message-headers").inner_text()
    assert (
        "550 5.1.1 <gone@globex.test>: Recipient address rejected"
        in page.locator(".outbox-log").inner_text()
    )
    shot(page, "outbox-message")

    # The address is fixed on the server's side; an admin retries.
    smtp_server.rcpt_replies.clear()
    page.click("button:has-text('Retry now')")
    page.wait_for_selector("text=Queued: the next attempt starts within seconds.")
    assert page.locator("#message-status").inner_text() == "Queued"
    run_jobs()
    page.reload()
    assert page.locator("#message-status").inner_text() == "Sent"
    assert page.locator(".outbox-log tbody tr").count() == 2
    assert page.locator("button:has-text('Retry now')").count() == 0
    assert [r["rcpt_tos"] for r in smtp_server.received] == [
        ["ada@acme.test"],
        ["gone@globex.test"],
    ]
    assert Message.objects.get(pk=refused.pk).status == MessageStatus.SENT
