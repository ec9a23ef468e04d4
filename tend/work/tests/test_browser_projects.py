"""Projects in real Chromium: start one from the account profile's panel, land on its page
with the milestones and owners, complete a task and see the progress move; the template
editor saves an outline."""

import os

import pytest

from tend.accounts.models import AssignmentRole
from tend.work.actions import create_template
from tend.work.models import Project, ProjectTemplate
from tend.work.tests.test_projects import PLAN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("TEND_SHOTS")  # a directory: save screenshots there to look at


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_start_a_project_from_the_profile_and_complete_a_task(page, login, owner, acme):
    for key, name in (("success_manager", "CSM"), ("solutions", "Solutions")):
        AssignmentRole.objects.get_or_create(workspace=owner.workspace, key=key, defaults={"name": name})
    template = create_template(owner.actor, {"name": "Onboarding — mid-market", "milestones": PLAN})
    login(owner)
    page.goto(f"/accounts/{acme.pk}/")
    panel = page.locator("#projects")
    assert "No active project for Acme Corp" in panel.inner_text()
    panel.locator("select[name=template]").select_option(str(template.pk))
    panel.get_by_role("button", name="Start project").click()
    page.wait_for_url("**/projects/*/")
    project = Project.objects.get()
    assert page.locator("h1").inner_text() == "Onboarding — mid-market"
    assert "0 / 4" in page.locator(".project-kpis").inner_text()
    page.get_by_role("button", name="Complete “Kickoff call”").click()
    page.wait_for_url(f"**/projects/{project.pk}/")
    assert "1 / 4" in page.locator(".project-kpis").inner_text()
    shot(page, "project-page")
    page.goto(f"/accounts/{acme.pk}/")
    assert "1 of 4 tasks done" in page.locator("#projects").inner_text()
    shot(page, "account-profile")


def test_the_template_editor_saves_an_outline(page, login, owner):
    AssignmentRole.objects.create(workspace=owner.workspace, key="success_manager", name="CSM")
    login(owner)
    page.goto("/projects/templates/new/")
    page.fill("input[name=name]", "Enterprise onboarding")
    page.fill("textarea[name=outline]", "# Kickoff\n+0 @ghost Executive kickoff\n")
    page.get_by_role("button", name="Save template").click()
    assert "line 2: role: no assignment role with key 'ghost'" in page.locator(".errorlist").inner_text()
    shot(page, "template-editor-error")
    page.fill(
        "textarea[name=outline]",
        "# Kickoff\n+0 @success_manager [meeting] Executive kickoff\n    With the sponsor.\n"
        "+7 Success plan signed off\n\n# Go-live\n+60 @success_manager [meeting] Go-live review\n",
    )
    page.get_by_role("button", name="Save template").click()
    page.wait_for_url("**/projects/templates/")
    template = ProjectTemplate.objects.get()
    assert [m["name"] for m in template.milestones] == ["Kickoff", "Go-live"]
    assert "60 days" in page.locator("table").inner_text()
    page.goto(f"/projects/templates/{template.pk}/")
    shot(page, "template-editor")
