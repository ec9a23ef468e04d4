"""Projects from templates: a project's tasks are due start + offset (the start a day in the
workspace's time zone) and go to whoever holds the task's role on the account, else the
fallback; progress, overdue and go-live; the templates API (admins write) and the projects
API; outsiders 404, viewers cannot write, bad input names the field; the project page,
the profile panel and the lists in a fixed number of queries; the template editor."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.accounts.models import Assignment, AssignmentRole
from tend.test import make_member
from tend.work import outline
from tend.work.actions import complete_task, create_template, start_project
from tend.work.models import Project, ProjectTemplate, Task
from tend.work.queries import local_today
from tend.work.tests.test_api_tasks import error_of, send

pytestmark = pytest.mark.django_db

PLAN = [
    {
        "name": "Kickoff",
        "tasks": [
            {
                "title": "Kickoff call",
                "offset_days": 0,
                "role": "success_manager",
                "type": "meeting",
            },
            {"title": "Send the welcome pack", "offset_days": 3, "role": "success_manager"},
        ],
    },
    {
        "name": "Technical setup",
        "tasks": [
            {"title": "Connect SSO", "offset_days": 10, "role": "solutions", "description": "SAML"},
            {"title": "Go-live review", "offset_days": 30},
        ],
    },
]


@pytest.fixture
def solutions(workspace):
    return AssignmentRole.objects.create(workspace=workspace, key="solutions", name="Solutions")


@pytest.fixture
def template(owner, role, solutions):
    return create_template(owner.actor, {"name": "Onboarding — mid-market", "milestones": PLAN})


@pytest.fixture
def csm(workspace, acme, role):
    sam = make_member(workspace, email="sam@acme.test", name="Sam Rivera")
    Assignment.objects.create(workspace=workspace, account=acme, role=role, member=sam)
    return sam


def test_tasks_are_due_start_plus_offset_and_go_to_the_role_else_the_fallback(
    owner, acme, template, csm
):
    start = datetime.date(2026, 3, 2)
    project = start_project(owner.actor, acme, template, {"start_date": start})
    tasks = {t.title: t for t in Task.objects.filter(project=project)}
    assert {t: (x.due_date, x.assignee) for t, x in tasks.items()} == {
        "Kickoff call": (start, csm),
        "Send the welcome pack": (datetime.date(2026, 3, 5), csm),
        # Nobody holds "solutions" on Acme, and the last task names no role: the starter.
        "Connect SSO": (datetime.date(2026, 3, 12), owner.member),
        "Go-live review": (datetime.date(2026, 4, 1), owner.member),
    }
    assert tasks["Kickoff call"].type == "meeting" and tasks["Connect SSO"].description == "SAML"
    assert tasks["Connect SSO"].milestone.name == "Technical setup"
    assert project.expected_go_live == datetime.date(2026, 4, 1)
    assert [m.due_date for m in project.milestones.all()] == [
        datetime.date(2026, 3, 5),
        datetime.date(2026, 4, 1),
    ]


def test_the_default_start_is_today_in_the_workspace_time_zone(owner, acme, template, workspace):
    workspace.time_zone = "Pacific/Auckland"
    workspace.save(update_fields=["time_zone"])
    project = start_project(owner.actor, acme, template)
    assert project.start_date == local_today(workspace)
    first = Task.objects.filter(project=project).order_by("due_date").first()
    assert first.due_date == local_today(workspace)


def test_an_inactive_role_holder_gives_way_to_the_fallback(owner, acme, template, csm):
    csm.is_active = False
    csm.save(update_fields=["is_active"])
    project = start_project(owner.actor, acme, template)
    assert set(Task.objects.filter(project=project).values_list("assignee", flat=True)) == {
        owner.member.pk
    }


def _progress(project):
    return Project.objects.with_progress().get(pk=project.pk)


def test_progress_overdue_and_actual_go_live(owner, acme, template, csm):
    today = local_today(owner.workspace)
    project = start_project(
        owner.actor, acme, template, {"start_date": today - datetime.timedelta(days=5)}
    )
    body = send(owner.api, "get", f"/api/v1/projects/{project.pk}").json()
    # Kickoff (day 0) and welcome pack (day 3) are past due.
    assert (body["done"], body["total"], body["overdue"], body["status"]) == (0, 4, 2, "active")
    assert body["actual_go_live"] is None
    assert [m["done"] for m in body["milestones"]] == [0, 0]
    assert [t["overdue"] for t in body["milestones"][0]["tasks"]] == [True, True]
    for task in Task.objects.filter(project=project):
        complete_task(owner.actor, task)
    body = send(owner.api, "get", f"/api/v1/projects/{project.pk}").json()
    assert (body["done"], body["total"], body["overdue"], body["status"]) == (4, 4, 0, "completed")
    assert body["actual_go_live"] == today.isoformat()
    assert _progress(project).open_count == 0


def test_templates_api_crud_for_admins(owner, role, solutions):
    created = send(
        owner.api, "post", "/api/v1/project-templates", {"name": "Enterprise", "milestones": PLAN}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["duration_days"] == 30 and body["milestones"][1]["tasks"][0]["role"] == "solutions"
    url = f"/api/v1/project-templates/{body['id']}"
    changed = send(owner.api, "patch", url, {"name": "Enterprise onboarding"})
    assert changed.json()["name"] == "Enterprise onboarding"
    assert (
        send(owner.api, "get", "/api/v1/project-templates").json()["items"][0]["id"] == body["id"]
    )
    assert send(owner.api, "delete", url).status_code == 204
    assert not ProjectTemplate.objects.exists()


@pytest.mark.parametrize(
    "milestones, field",
    [
        ([], "milestones"),
        ([{"name": "A", "tasks": []}], "milestones.0.tasks"),
        (
            [{"name": "A", "tasks": [{"title": "x", "offset_days": -1}]}],
            "milestones.0.tasks.0.offset_days",
        ),
        ([{"name": "A", "tasks": [{"title": "x"}]}], "milestones.0.tasks.0.offset_days"),
    ],
)
def test_bad_templates_are_422_naming_the_field(owner, milestones, field):
    response = send(
        owner.api, "post", "/api/v1/project-templates", {"name": "T", "milestones": milestones}
    )
    assert error_of(response)[0] == field


def test_an_unknown_role_and_a_taken_name_are_refused_by_the_action(owner, template):
    plan = [{"name": "A", "tasks": [{"title": "x", "offset_days": 1, "role": "nobody"}]}]
    response = send(
        owner.api, "post", "/api/v1/project-templates", {"name": "T", "milestones": plan}
    )
    assert error_of(response) == (
        "milestones[0].tasks[0].role",
        "no assignment role with key 'nobody'",
    )
    response = send(
        owner.api, "post", "/api/v1/project-templates", {"name": template.name, "milestones": PLAN}
    )
    assert error_of(response)[0] == "name"


def test_projects_api_starts_lists_by_account_and_reads(owner, acme, globex, template, csm):
    response = send(
        owner.api,
        "post",
        "/api/v1/projects",
        {"account_external_id": "acme", "template_id": template.pk, "start_date": "2026-03-02"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["expected_go_live"] == "2026-04-01" and body["total"] == 4
    assert [t["assignee"]["email"] for t in body["milestones"][0]["tasks"]] == ["sam@acme.test"] * 2
    start_project(owner.actor, globex, template)
    listed = send(owner.api, "get", f"/api/v1/projects?account_id={acme.pk}").json()["items"]
    assert [p["id"] for p in listed] == [body["id"]]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"template_id": 1}, "account_id"),
        ({"account_external_id": "acme", "template_id": 999999}, "template_id"),
        ({"account_external_id": "acme", "template_id": 1, "start_date": "soon"}, "start_date"),
        (
            {"account_external_id": "acme", "template_id": 1, "fallback_assignee": "x@y.z"},
            "fallback_assignee",
        ),
    ],
)
def test_bad_starts_are_4xx_naming_the_field(owner, acme, template, payload, field):
    if payload.get("template_id") == 1:
        payload["template_id"] = template.pk
    response = send(owner.api, "post", "/api/v1/projects", payload)
    assert error_of(response)[0] == field
    assert not Project.objects.exists()


def test_viewers_read_but_cannot_write(viewer, owner, practitioner, acme, template):
    project = start_project(owner.actor, acme, template)
    assert send(viewer.api, "get", f"/api/v1/projects/{project.pk}").status_code == 200
    start = send(
        viewer.api, "post", "/api/v1/projects", {"account_id": acme.pk, "template_id": template.pk}
    )
    assert start.status_code == 403
    url = f"/api/v1/project-templates/{template.pk}"
    # Templates are an admin's: a practitioner may start projects but not change plans.
    for persona in (viewer, practitioner):
        assert send(persona.api, "patch", url, {"name": "Mine"}).status_code == 403
        assert send(persona.api, "delete", url).status_code == 403
    assert (
        send(
            viewer.api, "post", "/api/v1/project-templates", {"name": "T", "milestones": PLAN}
        ).status_code
        == 403
    )
    page = viewer.browser.post("/projects/start/", {"account": acme.pk, "template": template.pk})
    assert page.status_code == 403
    assert (
        viewer.browser.post(f"/projects/templates/{template.pk}/", {"name": "x"}).status_code == 403
    )
    assert Project.objects.count() == 1 and ProjectTemplate.objects.get().name == template.name
    # Viewers read the plan and the project, without the controls.
    editor = viewer.browser.get(f"/projects/templates/{template.pk}/").content.decode()
    assert "Kickoff call" in editor and "readonly" in editor and "Save template" not in editor
    page = viewer.browser.get(f"/projects/{project.pk}/").content.decode()
    assert "Kickoff call" in page and "✓ Complete" not in page
    assert "Start project" not in viewer.browser.get(f"/accounts/{acme.pk}/").content.decode()


def test_outsiders_get_404_everywhere(outsider, owner, acme, template):
    project = start_project(owner.actor, acme, template)
    for url in (f"/api/v1/projects/{project.pk}", f"/api/v1/project-templates/{template.pk}"):
        assert send(outsider.api, "get", url).status_code == 404
    assert (
        send(
            outsider.api, "patch", f"/api/v1/project-templates/{template.pk}", {"name": "x"}
        ).status_code
        == 404
    )
    assert (
        send(outsider.api, "delete", f"/api/v1/project-templates/{template.pk}").status_code == 404
    )
    assert send(outsider.api, "get", "/api/v1/projects").json()["items"] == []
    start = send(
        outsider.api,
        "post",
        "/api/v1/projects",
        {"account_id": acme.pk, "template_id": template.pk},
    )
    assert start.status_code == 422 and Project.objects.count() == 1
    browser = outsider.browser
    assert browser.get(f"/projects/{project.pk}/").status_code == 404
    assert browser.get(f"/projects/templates/{template.pk}/").status_code == 404
    assert browser.post(f"/projects/templates/{template.pk}/delete/").status_code == 404
    assert ProjectTemplate.objects.filter(pk=template.pk).exists()


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(queries)


def test_page_panel_and_lists_take_a_fixed_number_of_queries(owner, acme, template, csm):
    small = start_project(owner.actor, acme, template)
    big_template = create_template(
        owner.actor,
        {
            "name": "Big",
            "milestones": [{"name": f"M{i}", "tasks": PLAN[0]["tasks"] * 3} for i in range(6)],
        },
    )
    big = start_project(owner.actor, acme, big_template)
    browser = owner.browser
    browser.get(f"/projects/{small.pk}/")  # the session's first request reads more
    assert _count(browser, f"/projects/{small.pk}/") == _count(browser, f"/projects/{big.pk}/")
    api = owner.api
    api.get("/api/v1/projects")
    assert _count(api, f"/api/v1/projects/{small.pk}") == _count(api, f"/api/v1/projects/{big.pk}")
    one = _count(api, "/api/v1/projects")
    for _ in range(3):
        start_project(owner.actor, acme, template)
    assert _count(api, "/api/v1/projects") == one
    templates = _count(api, "/api/v1/project-templates")
    create_template(owner.actor, {"name": "Third", "milestones": PLAN})
    assert _count(api, "/api/v1/project-templates") == templates
    profile = _count(browser, f"/accounts/{acme.pk}/")
    start_project(owner.actor, acme, big_template)
    assert _count(browser, f"/accounts/{acme.pk}/") == profile


def test_the_project_page_and_the_profile_panel_show_it(owner, acme, template, csm):
    today = local_today(owner.workspace)
    project = start_project(
        owner.actor, acme, template, {"start_date": today - datetime.timedelta(days=4)}
    )
    page = owner.browser.get(f"/projects/{project.pk}/").content.decode()
    assert "Kickoff call" in page and "Technical setup" in page and "Sam Rivera" in page
    assert '<div class="kpi-number overdue" id="overdue-count">2</div>' in page
    profile = owner.browser.get(f"/accounts/{acme.pk}/").content.decode()
    assert f'href="/projects/{project.pk}/"' in profile and "0 of 4 tasks done" in profile


def test_starting_from_the_profile_form(owner, acme, template, csm):
    response = owner.browser.post(
        "/projects/start/",
        {"account": acme.pk, "template": template.pk, "start_date": "2026-03-02"},
    )
    project = Project.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/"
    assert project.start_date == datetime.date(2026, 3, 2)
    bad = owner.browser.post(
        "/projects/start/", {"account": acme.pk, "template": template.pk, "start_date": "x"}
    )
    assert bad.status_code == 302 and Project.objects.count() == 1


def test_the_template_editor_round_trips_the_outline_and_names_the_bad_line(owner, role):
    text = "# Kickoff\n+0 @success_manager [meeting] Kickoff call\n    Agenda first.\n+7 Welcome pack\n"
    response = owner.browser.post(
        "/projects/templates/new/", {"name": "Mid-market", "outline": text}
    )
    assert response.status_code == 302, response.content[:400]
    template = ProjectTemplate.objects.get()
    assert template.milestones[0]["tasks"][0] == {
        "title": "Kickoff call",
        "offset_days": 0,
        "role": "success_manager",
        "description": "Agenda first.",
        "type": "meeting",
    }
    assert outline.parse(outline.render(template.milestones))[0] == template.milestones
    bad = owner.browser.post(
        f"/projects/templates/{template.pk}/",
        {"name": "Mid-market", "outline": "# Kickoff\n+0 Kickoff call\n+3 @ghost Call"},
    )
    assert bad.status_code == 422
    assert "line 3: role: no assignment role with key" in bad.content.decode()
    template.refresh_from_db()
    assert template.milestones[0]["tasks"][0]["title"] == "Kickoff call"
    assert owner.browser.get(f"/projects/templates/{template.pk}/").status_code == 200
    assert owner.browser.get("/projects/templates/").status_code == 200


def test_the_account_timeline_shows_the_project_started(owner, acme, template):
    project = start_project(owner.actor, acme, template, {"start_date": datetime.date(2026, 3, 2)})
    body = send(
        owner.api, "get", f"/api/v1/accounts/{acme.pk}/timeline?kind=project_started"
    ).json()
    assert [(i["kind"], i["title"]) for i in body["items"]] == [
        ("project_started", "Project started: Onboarding — mid-market")
    ]
    assert body["items"][0]["url"].endswith(f"/projects/{project.pk}/")
    assert body["items"][0]["detail"].startswith("4 tasks from Mar 2")


def test_a_projects_tasks_are_told_by_its_line_not_one_task_created_each(owner, acme, template):
    from tend.work.actions import create_task

    start_project(owner.actor, acme, template, {"start_date": datetime.date(2026, 3, 2)})
    create_task(owner.actor, acme, {"title": "Call back"})
    body = send(owner.api, "get", f"/api/v1/accounts/{acme.pk}/timeline").json()
    assert [
        i["title"] for i in body["items"] if i["kind"] in ("task_created", "project_started")
    ] == [
        "Task created: Call back",
        "Project started: Onboarding — mid-market",
    ]
