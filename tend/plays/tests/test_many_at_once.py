"""Runs standing at the same task or email step move through it together (``run_many``):
one insert of tasks, one of messages, one of delivery jobs, whatever the number of
accounts; an account that cannot be served fails alone; a step run again after its worker
died hands back what the first run made; and when ``run_many`` breaks, the runs go one by
one."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tend.accounts.actions.accounts import update_account
from tend.accounts.actions.definitions.roles import create_role
from tend.jobs.models import Job
from tend.outbox.models import Message
from tend.plays.engine import advance_due, run_key
from tend.plays.models import PlayRun, PlayRunStep, RunStatus
from tend.plays.polling import poll_workspace
from tend.plays.steps.email import message_key
from tend.plays.steps.task import CreateTask
from tend.plays.tests.conftest import enter, tag_play
from tend.test import make_member
from tend.work.models import Task

STEPS = [
    {
        "kind": "create_task",
        "config": {"title": "Kickoff with {{ account.name }}", "assignee_role": "csm"},
    },
    {
        "kind": "send_email",
        "config": {
            "to_roles": ["csm"],
            "subject": "{{ account.name }} is new",
            "body": "Hi {{ account.assignments.csm.name }}, say hello to **{{ account.name }}**.",
        },
    },
]


@pytest.fixture
def sam(owner, book):
    """The CSM of acme and globex; initech has none."""
    create_role(owner.actor, {"key": "csm", "name": "Success Manager"})
    member = make_member(owner.workspace, email="sam@vendor.test", name="Sam Rivera")
    for key in ("acme", "globex"):
        update_account(owner.actor, book[key], {"assignments": {"csm": "sam@vendor.test"}})
    return member


def start(owner, book, static_segment):
    play = tag_play(owner, static_segment, steps=STEPS)
    enter(owner, static_segment, *book.values())
    poll_workspace(owner.workspace)
    return play, {r.account.external_id: r for r in PlayRun.objects.filter(play=play).select_related("account")}


def inserts(queries, table):
    return sum(1 for q in queries if q["sql"].startswith(f'INSERT INTO "{table}"') or (
        q["sql"].startswith("INSERT OR IGNORE") and f'"{table}"' in q["sql"].split("(")[0]
    ))


def test_runs_at_a_task_and_an_email_step_move_through_them_together(owner, book, sam, static_segment):
    play, runs = start(owner, book, static_segment)
    with CaptureQueriesContext(connection) as queries:
        advance_due(owner.workspace.pk)
    for key in ("acme", "globex"):
        run = PlayRun.objects.get(pk=runs[key].pk)
        assert run.status == RunStatus.DONE
        task = Task.objects.get(account=run.account_id)
        assert (task.key, task.title, task.assignee_id) == (run_key(run, 1), f"Kickoff with {key.title()}", sam.pk)
        message = Message.objects.get(account_id=run.account_id)
        assert message.key == message_key(run_key(run, 2), "sam@vendor.test")
        assert message.to == ["sam@vendor.test"] and f"**{key.title()}**" in message.text
        assert Job.objects.filter(kind="outbox.deliver", payload__message_id=message.pk).count() == 1
        log = list(PlayRunStep.objects.filter(run=run).order_by("position").values_list("outcome", "reason"))
        assert [o for o, _ in log] == ["done", "done"]
        assert log[0][1].startswith(f"Created task 'Kickoff with {key.title()}' for Sam Rivera (Success Manager")
    # initech has no CSM: its run fails alone, with the reason.
    failed = PlayRun.objects.get(pk=runs["initech"].pk)
    assert failed.status == RunStatus.FAILED
    assert "no assignee: no active member holds csm on the account" in failed.reason
    # One insert each for the tasks, the messages and their delivery jobs.
    assert inserts(queries.captured_queries, "work_task") == 1
    assert inserts(queries.captured_queries, "outbox_message") == 1
    assert inserts(queries.captured_queries, "jobs_job") == 1


def test_a_step_run_again_together_hands_back_what_the_first_run_made(owner, book, sam, static_segment):
    """As after a worker killed between the step's effects and its log: the keys give back
    the task and the message instead of making second ones."""
    play, runs = start(owner, book, static_segment)
    advance_due(owner.workspace.pk)
    ids = [runs["acme"].pk, runs["globex"].pk]
    PlayRunStep.objects.filter(run_id__in=ids).delete()
    PlayRun.objects.filter(pk__in=ids).update(
        status=RunStatus.RUNNING, current_position=1, next_due_at=timezone.now(), finished_at=None
    )
    advance_due(owner.workspace.pk)
    assert Task.objects.filter(play_id=play.pk).count() == 2
    assert Message.objects.filter(source=f"play:{play.pk}").count() == 2
    assert Job.objects.filter(kind="outbox.deliver").count() == 2
    first = PlayRunStep.objects.get(run_id=ids[0], position=1)
    assert first.reason.startswith("Task 'Kickoff with Acme' was already created")
    assert set(PlayRun.objects.filter(pk__in=ids).values_list("status", flat=True)) == {RunStatus.DONE}


def test_when_run_many_breaks_the_runs_go_one_by_one(owner, book, sam, static_segment, monkeypatch):
    def broken(self, ctxs):
        Task.objects.create(workspace=owner.workspace, account=book["acme"], title="half-made", key="x")
        raise RuntimeError("boom")

    monkeypatch.setattr(CreateTask, "run_many", broken)
    play, runs = start(owner, book, static_segment)
    advance_due(owner.workspace.pk)
    assert not Task.objects.filter(key="x").exists()  # the group's savepoint took it back
    assert sorted(Task.objects.filter(play_id=play.pk).values_list("key", flat=True)) == sorted(
        run_key(runs[k], 1) for k in ("acme", "globex")
    )
    assert PlayRun.objects.get(pk=runs["globex"].pk).status == RunStatus.DONE
