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
        AssignmentRole.objects.get_or_create(
            workspace=owner.workspace, key=key, defaults={"name": name}
        )
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
    assert (
        "line 2: role: no assignment role with key 'ghost'"
        in page.locator(".errorlist").inner_text()
    )
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


def test_rename_cancel_and_see_it_on_home(page, login, owner, acme):
    import datetime

    from tend.work.actions import start_project
    from tend.work.queries import local_today

    for key, name in (("success_manager", "CSM"), ("solutions", "Solutions")):
        AssignmentRole.objects.get_or_create(
            workspace=owner.workspace, key=key, defaults={"name": name}
        )
    template = create_template(owner.actor, {"name": "Onboarding", "milestones": PLAN})
    start = local_today(owner.workspace) - datetime.timedelta(days=20)  # go-live in 10 days
    project = start_project(owner.actor, acme, template, {"start_date": start})
    login(owner)
    page.goto("/")
    card = page.locator("#home-projects")
    assert "Projects due" in card.inner_text() and "in 10 days" in card.inner_text()
    assert "overdue" in card.inner_text()  # the tasks due on days 0, 3 and 10
    shot(page, "home-projects")
    card.get_by_role("link", name="Onboarding").click()
    page.wait_for_url(f"**/projects/{project.pk}/")
    page.get_by_text("Rename…").click()
    page.fill("#project-name", "   ")
    page.locator("#project-rename").get_by_role("button", name="Save").click()
    assert "Name is required" in page.locator("#project-name-error").inner_text()
    shot(page, "project-rename-error")
    page.fill("#project-name", "Acme onboarding")
    page.locator("#project-rename").get_by_role("button", name="Save").click()
    assert page.locator("h1").inner_text() == "Acme onboarding"
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel project").click()
    page.wait_for_load_state()
    assert page.locator("#project-status").inner_text() == "Cancelled"
    assert (
        "Cancelled “Acme onboarding” and its 4 open tasks." in page.locator(".flash").inner_text()
    )
    shot(page, "project-cancelled")
    page.goto("/")
    assert "None of your projects" in page.locator("#home-projects").inner_text()
