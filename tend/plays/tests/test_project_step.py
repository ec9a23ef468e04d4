"""start_project: a play starts one project from a template on the account per step run —
tasks due start + offset in the workspace's time zone, owned by the role holder or the
fallback member; a re-run of the same step run starts no second project; a template that
is not the workspace's is refused naming the field."""

import datetime

import pytest

from tend.accounts.actions.accounts import update_account
from tend.accounts.actions.definitions.roles import create_role
from tend.plays.models import PlayRun, PlayRunStep, RunStatus
from tend.plays.tests.test_message_steps import rerun
from tend.plays.tests.test_task_step import run_play
from tend.test import make_member
from tend.work.actions import create_template
from tend.work.models import Project, Task
from tend.work.queries import local_today

URL = "/api/v1/plays"


@pytest.fixture
def template(owner, book):
    create_role(owner.actor, {"key": "csm", "name": "Success Manager"})
    return create_template(
        owner.actor,
        {
            "name": "Onboarding",
            "milestones": [
                {
                    "name": "Kickoff",
                    "tasks": [
                        {"title": "Kickoff call", "offset_days": 2, "role": "csm"},
                        {"title": "Admin training", "offset_days": 9},
                    ],
                }
            ],
        },
    )


def step(template, **config):
    return {"kind": "start_project", "config": {"template_id": template.pk, **config}}


def test_one_project_per_step_run(owner, book, static_segment, template):
    owner.workspace.time_zone = "Pacific/Auckland"
    owner.workspace.save(update_fields=["time_zone"])
    sam = make_member(owner.workspace, email="sam@vendor.test", name="Sam Rivera")
    update_account(owner.actor, book["acme"], {"assignments": {"csm": "sam@vendor.test"}})
    play, runs = run_play(
        owner,
        static_segment,
        [book["acme"], book["globex"]],
        [step(template, fallback_member_id=owner.member.pk)],
    )
    assert {r.status for r in runs.values()} == {RunStatus.DONE}
    acme = Project.objects.get(account=book["acme"])
    today = local_today(owner.workspace)
    assert (acme.start_date, acme.play_id, acme.source) == (today, play.pk, "Play: Onboarding kickoff")
    tasks = list(Task.objects.filter(project=acme).order_by("due_date"))
    assert [(t.due_date, t.assignee_id) for t in tasks] == [
        (today + datetime.timedelta(days=2), sam.pk),
        (today + datetime.timedelta(days=9), owner.member.pk),
    ]
    # Nobody holds csm on Globex: the fallback member takes both.
    globex = Project.objects.get(account=book["globex"])
    assert set(Task.objects.filter(project=globex).values_list("assignee", flat=True)) == {owner.member.pk}
    run = runs[book["acme"].pk]
    assert PlayRunStep.objects.get(run=run).detail == {"project_id": acme.pk, "created": True}
    again = rerun(run)
    assert again.detail == {"project_id": acme.pk, "created": False}
    assert Project.objects.count() == 2 and Task.objects.count() == 4
    assert PlayRun.objects.filter(play=play).count() == 2


def test_a_template_of_another_workspace_is_refused_naming_the_field(
    owner, static_segment, outsider
):
    theirs = create_template(
        outsider.actor,
        {"name": "Theirs", "milestones": [{"name": "M", "tasks": [{"title": "x", "offset_days": 0}]}]},
    )
    response = owner.api.post(
        URL,
        {
            "name": "Bad",
            "trigger": {"kind": "segment_entered", "config": {"segment_id": static_segment.pk}},
            "steps": [{"kind": "start_project", "config": {"template_id": theirs.pk}}],
        },
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == "steps.0.config.template_id"


def test_the_editor_offers_the_templates_by_name(owner, template, static_segment):
    from tend.plays.tests.test_editor import _form

    data = _form(static_segment, owner, op="add_step", new_step_kind="start_project")
    html = owner.browser.post("/plays/new/", data).content.decode()
    select = html[html.index('name="s2-template_id"') :].split("</select>")[0]
    assert f'<option value="{template.pk}"' in select and "Onboarding</option>" in select
