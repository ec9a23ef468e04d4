"""In Chromium: the plays list and a play's page with its execution log and why-not, as a
CSM would read them (screenshots kept when TEND_SCREENSHOTS names a directory)."""

import os

import pytest

from tend.plays.models import RunStatus
from tend.plays.tests.conftest import enter, leave, tag_play, tick

SCREENSHOTS = os.environ.get("TEND_SCREENSHOTS")  # a directory to keep screenshots in


def shoot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_a_csm_reads_the_plays_and_a_plays_log(owner, book, static_segment, login):
    play = tag_play(owner, static_segment, run_policy="once_per_account", description="Tag new customers for the kickoff call.")
    tag_play(owner, static_segment, name="Risk outreach", status="draft")
    enter(owner, static_segment, book["acme"], book["globex"])
    tick(owner.workspace)
    leave(owner, static_segment, book["acme"])
    enter(owner, static_segment, book["acme"])
    tick(owner.workspace)
    page = login(owner)
    page.goto("/plays/")
    page.get_by_role("link", name="Plays").first.wait_for()
    assert page.locator("table.plays-table tbody tr").count() == 2
    shoot(page, "plays-list")
    page.get_by_role("link", name="Onboarding kickoff").click()
    page.get_by_role("heading", name="Execution log").wait_for()
    assert page.locator("table.play-runs tbody tr").count() == 3
    assert page.get_by_text("run policy: once per account").count() >= 1
    page.fill("input[name=account]", "acme")
    page.get_by_role("button", name="Check").click()
    page.get_by_text("Stopped by run policy").wait_for()
    shoot(page, "plays-detail")
    assert play.runs.filter(status=RunStatus.DONE).count() == 2
