"""In Chromium, the whole life of a play built by hand: the editor (trigger, a create-task
step with its template previewed for a sample account), a validation error that keeps what
was typed, the dry run, activation with backfill, the engine running it as the worker does,
the task in My tasks, and the play's execution log. Screenshots are kept when
TEND_SCREENSHOTS names a directory."""

import pytest

from tend.plays.models import Play, PlayRun, RunStatus
from tend.plays.tests.conftest import enter, tick
from tend.plays.tests.test_browser_plays import shoot
from tend.work.models import Task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def settled(page) -> None:
    """Wait until htmx has processed what it swapped in."""
    page.wait_for_function("!document.querySelector('.htmx-added, .htmx-request, .htmx-settling')")


def test_a_csm_builds_dry_runs_activates_and_follows_a_play(login, owner, book, static_segment):
    enter(owner, static_segment, book["acme"], book["globex"])
    page = login(owner)
    page.goto("/plays/")
    page.get_by_role("link", name="New play").first.click()
    page.wait_for_url("**/plays/new/")

    page.fill("input[name=name]", "Onboarding kickoff")
    page.fill("textarea[name=description]", "A kickoff call for every new customer.")
    # The trigger: its own fields appear once the kind is picked.
    page.select_option("select[name=trigger_kind]", "segment_left")
    page.locator("select[name=t-segment_id]").wait_for()
    settled(page)
    page.select_option("select[name=trigger_kind]", "segment_entered")
    settled(page)
    page.select_option("select[name=t-segment_id]", label="New customers")

    # The first step is a task: title template, assignee, due date.
    step = page.locator(".play-step").first
    assert "Create a task" in step.inner_text()
    step.locator("textarea[name$=-title]").fill("Kickoff call with {{ account.name }}")
    step.locator("select[name$=-type]").select_option("call")
    step.locator("input[name$=-due_in_days]").fill("2")
    # Saved without an assignee: the error sits on the step, and nothing typed is lost.
    page.get_by_role("button", name="Create the play").click()
    page.locator(".play-step .error").wait_for()
    assert "exactly one of" in page.locator(".play-step .error").inner_text()
    assert page.locator("input[name=name]").input_value() == "Onboarding kickoff"
    assert (
        page.locator(".play-step textarea[name$=-title]").input_value()
        == "Kickoff call with {{ account.name }}"
    )
    assert Play.objects.count() == 0
    shoot(page, "play-editor-error")

    step = page.locator(".play-step").first
    step.locator("select[name$=-assignee_member_id]").select_option(str(owner.member.pk))
    # The preview renders the template for the sample account, writing nothing.
    page.fill("input[name=sample]", "acme")
    step.get_by_role("button", name="Preview for the sample account").click()
    page.locator(".play-preview-box").wait_for()
    assert "Kickoff call with Acme" in page.locator(".play-preview-title").inner_text()
    shoot(page, "play-editor-preview")

    # A second step, then moved above the task and removed again (htmx, in place).
    page.select_option("select[name=new_step_kind]", "add_tag")
    page.get_by_role("button", name="+ Add step").click()
    page.locator(".play-step").nth(1).wait_for()
    settled(page)
    page.locator(".play-step").nth(1).locator("input[name$=-tag]").fill("kickoff")
    page.get_by_role("button", name="Move step 2 up").click()
    page.locator(".play-step").first.locator("input[name$=-tag]").wait_for()
    settled(page)
    assert page.locator(".play-step").first.locator("input[name$=-tag]").input_value() == "kickoff"
    assert (
        page.locator(".play-step")
        .nth(1)
        .locator("textarea[name$=-title]")
        .input_value()
        .startswith("Kickoff call")
    )
    page.get_by_role("button", name="Remove step 1").click()
    page.wait_for_function("document.querySelectorAll('.play-step').length === 1")
    settled(page)
    shoot(page, "play-editor")

    page.get_by_role("button", name="Save and dry-run").click()
    page.wait_for_url("**/dry-run/")
    play = Play.objects.get()
    assert play.status == "draft" and list(play.steps.values_list("kind", flat=True)) == [
        "create_task"
    ]
    table = page.locator("table.play-dry-table")
    assert (
        "Kickoff call with Acme" in table.inner_text()
        and "Kickoff call with Globex" in table.inner_text()
    )
    assert page.locator(".play-dry-run-count").inner_text() == "2"
    shoot(page, "play-dry-run")
    assert Task.objects.count() == 0  # the dry run did nothing

    # Activate, running it for the accounts already in the segment.
    page.locator(".play-activate summary").click()
    page.get_by_text("Also the accounts already matching").click()
    shoot(page, "play-activate")
    page.get_by_role("button", name="Activate", exact=True).click()
    page.wait_for_url(f"**/plays/{play.pk}/")
    assert "activated" in page.locator(".flash").inner_text()
    # A new customer after activation, and the worker's round.
    enter(owner, static_segment, book["initech"])
    tick(owner.workspace)
    assert PlayRun.objects.filter(play=play, status=RunStatus.DONE).count() == 3

    page.get_by_role("link", name="Tasks", exact=True).click()
    page.wait_for_url("**/tasks/")
    for name in ("Acme", "Globex", "Initech"):
        page.get_by_text(f"Kickoff call with {name}").first.wait_for()

    page.goto(f"/plays/{play.pk}/")
    log = page.locator("table.play-runs")
    assert log.locator("tbody tr").count() == 3
    assert "Created task 'Kickoff call with Initech'" in log.inner_text()
    shoot(page, "play-detail-after-run")
