"""create_task: a real task row with its title, description, type, priority, due date in the
workspace's time zone and assignee (role, named member, round robin among a team); a re-run
of the same step run makes no second task; the dry run writes nothing; bad config names
the field through the plays API."""

import datetime

import pytest
from django.utils import timezone

from tend.accounts.actions.accounts import update_account
from tend.accounts.actions.definitions.roles import create_role
from tend.plays.models import PlayRun, PlayRunStep, RunStatus
from tend.plays.tests.conftest import enter, tag_play, tick
from tend.plays.tests.test_message_steps import rerun
from tend.test import make_member
from tend.work.models import Task
from tend.work.queries import local_today
from tend.workspaces.actions import create_team

URL = "/api/v1/plays"


@pytest.fixture
def csm(owner, book):
    create_role(owner.actor, {"key": "csm", "name": "Success Manager"})
    sam = make_member(owner.workspace, email="sam@vendor.test", name="Sam Rivera")
    update_account(owner.actor, book["acme"], {"assignments": {"csm": "sam@vendor.test"}})
    return sam


def task_step(**config):
    return {
        "kind": "create_task",
        "config": {
            "title": "Kick off {{ account.name }} ({{ account.attributes.plan }})",
            "description": "Call **{{ account.name }}** within the week.",
            "type": "onboarding",
            "priority": "high",
            "due_in_days": 3,
            **config,
        },
    }


def run_play(owner, segment, accounts, step_list):
    play = tag_play(owner, segment, steps=step_list)
    enter(owner, segment, *accounts)
    tick(owner.workspace)
    return play, {r.account_id: r for r in PlayRun.objects.filter(play=play)}


def test_a_task_for_the_csm_due_in_days_once_per_step_run(owner, book, static_segment, csm):
    owner.workspace.time_zone = "Pacific/Auckland"
    owner.workspace.save(update_fields=["time_zone"])
    play, runs = run_play(owner, static_segment, [book["acme"]], [task_step(assignee_role="csm")])
    run = runs[book["acme"].pk]
    assert run.status == RunStatus.DONE, run.reason
    task = Task.objects.get()
    assert task.title == "Kick off Acme (enterprise)"
    assert task.description == "Call **Acme** within the week."
    assert (task.type, task.priority, task.assignee_id) == ("onboarding", "high", csm.pk)
    assert task.due_date == local_today(owner.workspace) + datetime.timedelta(days=3)
    assert (task.play_id, task.source, task.account_id) == (
        play.pk,
        "Play: Onboarding kickoff",
        book["acme"].pk,
    )
    assert PlayRunStep.objects.get(run=run).detail["task_id"] == task.pk
    again = rerun(run)
    assert again.detail == {"task_id": task.pk, "created": False}
    assert Task.objects.count() == 1


def test_role_without_holder_is_a_permanent_failure(owner, book, static_segment, csm):
    play, runs = run_play(owner, static_segment, [book["globex"]], [task_step(assignee_role="csm")])
    log = PlayRunStep.objects.get(run=runs[book["globex"].pk])
    assert log.permanent and log.reason == "no assignee: no active member holds csm on the account"
    assert not Task.objects.exists()


def test_fallback_member_takes_it_when_nobody_holds_the_role(owner, book, static_segment, csm):
    play, runs = run_play(
        owner,
        static_segment,
        [book["globex"]],
        [task_step(assignee_role="csm", fallback_member_id=owner.member.pk)],
    )
    assert runs[book["globex"].pk].status == RunStatus.DONE
    assert Task.objects.get().assignee_id == owner.member.pk


def test_round_robin_spreads_tasks_and_is_stable_under_re_runs(owner, book, static_segment):
    a = make_member(owner.workspace, email="a@vendor.test")
    b = make_member(owner.workspace, email="b@vendor.test")
    team = create_team(owner.actor, name="Onboarding", members=[a, b])
    play, runs = run_play(
        owner,
        static_segment,
        [book["acme"], book["globex"], book["initech"]],
        [task_step(assignee_team_id=team.pk)],
    )
    assignees = [
        Task.objects.get(account=acct).assignee_id
        for acct in (book["acme"], book["globex"], book["initech"])
    ]
    ordered = sorted(runs.values(), key=lambda r: r.pk)
    by_run = [Task.objects.get(key__startswith=f"play-run:{r.pk}:").assignee_id for r in ordered]
    assert by_run == [a.pk, b.pk, a.pk] and sorted(assignees) == sorted(by_run)
    # Re-running each step run keeps each task and its assignee.
    for r in ordered:
        rerun(r)
    assert Task.objects.count() == 3
    assert [
        Task.objects.get(key__startswith=f"play-run:{r.pk}:").assignee_id for r in ordered
    ] == by_run


def test_task_dry_run_describes_and_writes_nothing(owner, book, static_segment, csm):
    enter(owner, static_segment, book["acme"])
    play = tag_play(owner, static_segment, status="draft", steps=[task_step(assignee_role="csm")])
    dry = owner.api.post(f"{URL}/{play.pk}/dry-run", data={}, content_type="application/json")
    described = dry.json()["items"][0]["steps"][0]
    assert described["title"] == "Kick off Acme (enterprise)"
    assert described["assignee"] == {"id": csm.pk, "name": "Sam Rivera"}
    assert (
        described["due_date"]
        == (local_today(owner.workspace, timezone.now()) + datetime.timedelta(days=3)).isoformat()
    )
    assert not Task.objects.exists() and not PlayRun.objects.exists()


@pytest.mark.parametrize(
    "config,field",
    [
        ({"assignee_role": "nope"}, "steps.0.config.assignee_role"),
        ({"assignee_member_id": 999999}, "steps.0.config.assignee_member_id"),
        ({"assignee_team_id": 999999}, "steps.0.config.assignee_team_id"),
        ({"assignee_role": "csm", "assignee_member_id": 1}, "steps.0.config"),
        ({"assignee_role": "csm", "priority": "asap"}, "steps.0.config.priority"),
        ({"assignee_role": "csm", "due_in_days": -1}, "steps.0.config.due_in_days"),
        ({"assignee_role": "csm", "title": "{% for %}"}, "steps.0.config.title"),
    ],
)
def test_bad_task_config_names_the_field(owner, book, static_segment, csm, config, field):
    answer = owner.api.post(
        URL,
        data={
            "name": "Bad",
            "trigger": {"kind": "segment_entered", "config": {"segment_id": static_segment.pk}},
            "steps": [task_step(**config)],
        },
        content_type="application/json",
    )
    assert answer.status_code == 422, answer.json()
    assert answer.json()["errors"][0]["field"] == field
