"""Renaming, cancelling and deleting a project (API and page): writers any project, a
contributor one they started, a viewer none, an outsider gets 404; a bad name is 422 naming
``name``; cancelling cancels the open tasks only and once. Home's "Projects due" card: the
member's active projects going live soon or with overdue tasks, in a fixed number of
queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.accounts.models import Account, Assignment
from tend.work.actions import cancel_project, complete_task, create_template, start_project
from tend.work.models import Project, Task
from tend.work.queries import local_today
from tend.work.tests.test_api_tasks import error_of, send
from tend.work.tests.test_projects import PLAN

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(owner, role):
    plan = [
        {**m, "tasks": [{k: v for k, v in t.items() if k != "role"} for t in m["tasks"]]}
        for m in PLAN
    ]
    return create_template(owner.actor, {"name": "Onboarding", "milestones": plan})


@pytest.fixture
def project(owner, acme, template):
    return start_project(owner.actor, acme, template, {"start_date": local_today(acme.workspace)})


def test_rename_through_the_api_and_the_page(owner, project):
    url = f"/api/v1/projects/{project.pk}"
    response = send(owner.api, "patch", url, {"name": "Acme onboarding"})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Acme onboarding"
    assert error_of(send(owner.api, "patch", url, {"name": ""}))[0] == "name"
    assert error_of(send(owner.api, "patch", url, {})) == ("name", "is required")
    assert error_of(send(owner.api, "patch", url, {"name": "x" * 201}))[0] == "name"
    assert error_of(send(owner.api, "patch", url, {"name": "A", "status": "x"}))[0] == "status"
    page = owner.browser.post(f"/projects/{project.pk}/rename/", {"name": "Acme go-live"})
    assert page.status_code == 302
    project.refresh_from_db()
    assert project.name == "Acme go-live"
    bad = owner.browser.post(f"/projects/{project.pk}/rename/", {"name": "   "})
    assert bad.status_code == 422
    html = bad.content.decode()
    assert 'id="project-name-error"' in html and "Name is required" in html
    project.refresh_from_db()
    assert project.name == "Acme go-live"


def test_cancel_cancels_the_open_tasks_only_and_once(owner, project):
    first = Task.objects.filter(project=project).order_by("due_date", "id").first()
    complete_task(owner.actor, first)
    response = send(owner.api, "post", f"/api/v1/projects/{project.pk}/cancel")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "cancelled" and body["cancelled_at"] is not None
    assert body["actual_go_live"] is None
    statuses = dict(Task.objects.filter(project=project).values_list("title", "status"))
    assert statuses == {
        "Kickoff call": "done",
        "Send the welcome pack": "cancelled",
        "Connect SSO": "cancelled",
        "Go-live review": "cancelled",
    }
    again = send(owner.api, "post", f"/api/v1/projects/{project.pk}/cancel")
    assert error_of(again) == ("status", "the project is already cancelled")
    listed = send(owner.api, "get", "/api/v1/projects?status=cancelled").json()["items"]
    assert [p["id"] for p in listed] == [project.pk]
    assert send(owner.api, "get", "/api/v1/projects?status=active").json()["items"] == []
    assert send(owner.api, "get", "/api/v1/projects?status=completed").json()["items"] == []
    html = owner.browser.get(f"/projects/{project.pk}/").content.decode()
    assert ">Cancelled</span>" in html and "Cancel project" not in html
    # The profile's panel lists active projects only.
    profile = owner.browser.get(f"/accounts/{project.account_id}/").content.decode()
    assert (
        f"/projects/{project.pk}/" not in profile.split('id="projects"')[1].split("</section>")[0]
    )


def test_cancel_and_delete_from_the_page(owner, project, acme):
    response = owner.browser.post(f"/projects/{project.pk}/cancel/")
    assert response.status_code == 302
    assert Project.objects.get().cancelled_at is not None
    assert not Task.objects.filter(project=project, status="open").exists()
    response = owner.browser.post(f"/projects/{project.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == f"/accounts/{acme.pk}/#projects"
    assert not Project.objects.exists() and not Task.objects.filter(account=acme).exists()


def test_delete_through_the_api(owner, project):
    assert send(owner.api, "delete", f"/api/v1/projects/{project.pk}").status_code == 204
    assert not Project.objects.exists() and not Task.objects.exists()
    assert send(owner.api, "get", f"/api/v1/projects/{project.pk}").status_code == 404


def test_the_page_shows_the_buttons_to_those_who_may_use_them(owner, viewer, project):
    html = owner.browser.get(f"/projects/{project.pk}/").content.decode()
    for action in ("rename", "cancel", "delete"):
        assert f'action="/projects/{project.pk}/{action}/"' in html
    html = viewer.browser.get(f"/projects/{project.pk}/").content.decode()
    assert "/rename/" not in html and "/cancel/" not in html and "/delete/" not in html


def test_a_viewer_cannot_change_a_project(viewer, project):
    url = f"/api/v1/projects/{project.pk}"
    assert send(viewer.api, "patch", url, {"name": "x"}).status_code == 403
    assert send(viewer.api, "post", url + "/cancel").status_code == 403
    assert send(viewer.api, "delete", url).status_code == 403
    for action, data in (("rename", {"name": "x"}), ("cancel", {}), ("delete", {})):
        assert viewer.browser.post(f"/projects/{project.pk}/{action}/", data).status_code == 403
    project.refresh_from_db()
    assert project.name == "Onboarding" and project.cancelled_at is None


def test_a_contributor_changes_only_the_projects_they_started(contributor, acme, template, project):
    url = f"/api/v1/projects/{project.pk}"
    assert send(contributor.api, "patch", url, {"name": "x"}).status_code == 403
    assert send(contributor.api, "post", url + "/cancel").status_code == 403
    assert contributor.browser.post(f"/projects/{project.pk}/delete/").status_code == 403
    html = contributor.browser.get(f"/projects/{project.pk}/").content.decode()
    assert "/rename/" not in html
    theirs = start_project(contributor.actor, acme, template)
    # Through the session: a token acts for no member, so it started nothing.
    renamed = send(contributor.browser, "patch", f"/api/v1/projects/{theirs.pk}", {"name": "Mine"})
    assert renamed.status_code == 200, renamed.content
    assert contributor.browser.post(f"/projects/{theirs.pk}/cancel/").status_code == 302
    assert contributor.browser.post(f"/projects/{theirs.pk}/delete/").status_code == 302
    assert list(Project.objects.values_list("pk", flat=True)) == [project.pk]


def test_an_outsider_gets_404(outsider, project):
    url = f"/api/v1/projects/{project.pk}"
    assert send(outsider.api, "patch", url, {"name": "x"}).status_code == 404
    assert send(outsider.api, "post", url + "/cancel").status_code == 404
    assert send(outsider.api, "delete", url).status_code == 404
    for action, data in (("rename", {"name": "x"}), ("cancel", {}), ("delete", {})):
        assert outsider.browser.post(f"/projects/{project.pk}/{action}/", data).status_code == 404
    assert outsider.browser.get(f"/projects/{project.pk}/").status_code == 404
    project.refresh_from_db()
    assert project.name == "Onboarding" and project.cancelled_at is None


# --- Home -------------------------------------------------------------------------------------


def _home_card(persona) -> str:
    html = persona.browser.get("/").content.decode()
    return html.split('id="home-projects"')[1].split("</section>")[0]


def test_home_lists_my_projects_due_soon_or_overdue(owner, practitioner, role, workspace, template):
    today = local_today(workspace)
    days = datetime.timedelta
    acme = Account.objects.create(workspace=workspace, external_id="a", name="Acme")
    globex = Account.objects.create(workspace=workspace, external_id="g", name="Globex")
    initech = Account.objects.create(workspace=workspace, external_id="i", name="Initech")
    Assignment.objects.create(
        workspace=workspace, account=globex, role=role, member=practitioner.member
    )
    # The template lasts 30 days: go-live = start + 30.
    soon = start_project(
        owner.actor, acme, template, {"start_date": today - days(20), "name": "Soon"}
    )
    far_but_late = start_project(
        owner.actor, acme, template, {"start_date": today - days(5), "name": "Late task"}
    )
    far = start_project(owner.actor, acme, template, {"start_date": today, "name": "Far"})
    # Another member's, on an account assigned to the practitioner: theirs, not mine.
    assigned = start_project(
        practitioner.actor, globex, template, {"start_date": today - days(40), "name": "Globex"}
    )
    others = start_project(
        practitioner.actor, initech, template, {"start_date": today - days(25), "name": "Others"}
    )
    cancelled = start_project(
        owner.actor, acme, template, {"start_date": today - days(25), "name": "Stopped"}
    )
    cancel_project(owner.actor, cancelled)
    assert far_but_late.tasks.filter(due_date__lt=today, status="open").exists()
    card = _home_card(owner)
    assert "Projects due" in owner.browser.get("/").content.decode()
    names = [n.split("<")[0] for n in card.split('class="task-title" href="/projects/')[1:]]
    assert [n.split('">')[1] for n in names] == ["Soon", "Late task"]
    assert "go-live" in card and "overdue" in card and "Far" not in card
    # The practitioner's: started by them (Others) or on their account (Globex, 10 days late).
    card = _home_card(practitioner)
    assert "Globex" in card and "Others" in card and "Soon" not in card
    assert "10 days ago" in card
    # A project with one of my tasks in it is mine too.
    task = far.tasks.order_by("due_date").first()
    Task.objects.filter(pk=task.pk).update(assignee=practitioner.member, due_date=today - days(1))
    assert "Far" in _home_card(practitioner)
    assert {soon.pk, assigned.pk, others.pk}  # started


def test_home_says_when_no_project_is_due(viewer):
    card = _home_card(viewer)
    assert "None of your projects goes live in the next 14 days" in card


def test_home_costs_the_same_queries_for_1_project_as_for_12(owner, workspace, template, acme):
    today = local_today(workspace)
    start = today - datetime.timedelta(days=25)
    start_project(owner.actor, acme, template, {"start_date": start})
    owner.browser.get("/")

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner.browser.get("/").status_code == 200
        return len(captured)

    one = count()
    for n in range(11):
        start_project(owner.actor, acme, template, {"start_date": start, "name": f"P{n}"})
    assert count() == one + 1  # the "and N more" count
    assert "and 4 more" in _home_card(owner)
