"""The tasks' write path: creating, changing, status transitions, rights by seat, comments."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied

from tend.lib.errors import InvalidInput
from tend.work import actions
from tend.work.models import Task, TaskStatus

pytestmark = pytest.mark.django_db


def test_a_new_task_is_open_due_today_and_assigned_to_whoever_created_it(owner, acme, today):
    task = actions.create_task(owner.actor, acme, {"title": "  Kickoff call  "})
    assert (task.title, task.status, task.due_date) == ("Kickoff call", "open", today)
    assert task.assignee == owner.member and task.created_by == owner.member
    assert (task.type, task.priority, task.source, task.play_id) == ("other", "normal", "", None)


def test_a_task_may_be_created_unassigned_and_for_another_member(owner, practitioner, acme):
    task = actions.create_task(owner.actor, acme, {"title": "x", "assignee": None})
    assert task.assignee is None
    task = actions.create_task(
        owner.actor, acme, {"title": "x", "assignee": practitioner.member.pk}
    )
    assert task.assignee == practitioner.member


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "x", "type": "party"}, "type"),
        ({"title": "x", "priority": "whenever"}, "priority"),
        ({"title": "x", "due_date": "tomorrow"}, "due_date"),
        ({"title": "x", "description": "x" * 20_001}, "description"),
    ],
)
def test_bad_input_names_the_field_and_nothing_is_created(owner, acme, data, field):
    with pytest.raises(InvalidInput) as caught:
        actions.create_task(owner.actor, acme, data)
    assert caught.value.field == field
    assert not Task.objects.exists()


def test_tasks_go_only_to_active_members_who_can_work_on_them(
    owner, viewer, outsider, acme, make_task
):
    for assignee, words in [
        (viewer.member, "Viewer seat"),
        (outsider.member, "not a member"),
        (999_999, "not a member"),
    ]:
        with pytest.raises(InvalidInput, match=words) as caught:
            actions.create_task(owner.actor, acme, {"title": "x", "assignee": assignee})
        assert caught.value.field == "assignee"
    leaver = owner.member.__class__.objects.get(pk=owner.member.pk)
    leaver.is_active = False
    leaver.save()
    with pytest.raises(InvalidInput, match="no longer active"):
        actions.reassign(owner.actor, make_task(), leaver)


def test_an_account_of_another_workspace_is_refused(owner, outsider):
    from tend.accounts.models import Account

    theirs = Account.objects.create(workspace=outsider.workspace, external_id="x", name="X")
    with pytest.raises(InvalidInput) as caught:
        actions.create_task(owner.actor, theirs, {"title": "x"})
    assert caught.value.field == "account"


def test_complete_then_reopen_then_cancel(owner, practitioner, make_task):
    task = make_task()
    actions.complete_task(practitioner.actor, task)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.completed_by == practitioner.member
    assert task.completed_at is not None
    actions.reopen_task(owner.actor, task)
    task.refresh_from_db()
    assert (task.status, task.completed_at, task.completed_by) == ("open", None, None)
    actions.cancel_task(owner.actor, task)
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED and task.completed_by == owner.member


@pytest.mark.parametrize(
    ("start", "action", "words"),
    [
        ("done", actions.complete_task, "already done"),
        ("cancelled", actions.complete_task, "reopen it"),
        ("done", actions.cancel_task, "reopen it"),
        ("cancelled", actions.cancel_task, "already cancelled"),
        ("open", actions.reopen_task, "already open"),
    ],
)
def test_transitions_that_make_no_sense_are_refused(owner, make_task, start, action, words):
    task = make_task()
    Task.objects.filter(pk=task.pk).update(status=start)
    task.refresh_from_db()
    with pytest.raises(InvalidInput, match=words) as caught:
        action(owner.actor, task)
    assert caught.value.field == "status"
    task.refresh_from_db()
    assert task.status == start


def test_update_changes_fields_and_status_together(owner, practitioner, make_task, today):
    task = make_task()
    later = today + datetime.timedelta(days=7)
    actions.update_task(
        owner.actor,
        task,
        {"title": "QBR", "priority": "urgent", "due_date": later, "status": "done"},
    )
    task.refresh_from_db()
    assert (task.title, task.priority, task.due_date, task.status) == (
        "QBR",
        "urgent",
        later,
        "done",
    )
    with pytest.raises(InvalidInput) as caught:
        actions.update_task(owner.actor, task, {"account": 1})
    assert caught.value.field == "account"


def test_reassign_and_reschedule(owner, practitioner, make_task, today):
    task = make_task()
    actions.reassign(owner.actor, task, practitioner.member)
    actions.reschedule(owner.actor, task, today + datetime.timedelta(days=3))
    task.refresh_from_db()
    assert task.assignee == practitioner.member
    assert task.due_date == today + datetime.timedelta(days=3)
    actions.reassign(owner.actor, task, None)
    task.refresh_from_db()
    assert task.assignee is None


# --- rights ---------------------------------------------------------------------------------


def test_viewers_change_nothing(viewer, make_task):
    task = make_task()
    for attempt in (
        lambda: actions.create_task(viewer.actor, task.account, {"title": "x"}),
        lambda: actions.complete_task(viewer.actor, task),
        lambda: actions.update_task(viewer.actor, task, {"title": "y"}),
        lambda: actions.add_comment(viewer.actor, task, "hello"),
        lambda: actions.delete_task(viewer.actor, task),
        lambda: actions.bulk_update_tasks(viewer.actor, "complete", [task.pk]),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    task.refresh_from_db()
    assert (task.status, task.title) == ("open", "Call the champion")
    assert not task.comments.exists()


def test_contributors_change_their_own_tasks_and_those_of_their_accounts_only(
    owner, contributor, contributors_account, globex, make_task
):
    on_their_account = make_task(account=contributors_account)  # by the owner, for the owner
    assigned_to_them = make_task(account=globex, assignee=contributor.member.pk)
    created_by_them = make_task(account=globex, by=contributor, assignee=owner.member.pk)
    someone_elses = make_task(account=globex)
    for task in (on_their_account, assigned_to_them, created_by_them):
        actions.complete_task(contributor.actor, task)
    with pytest.raises(PermissionDenied, match="Contributor"):
        actions.complete_task(contributor.actor, someone_elses)
    # They comment on any task, and delete only what they created.
    actions.add_comment(contributor.actor, someone_elses, "Saw this too")
    with pytest.raises(PermissionDenied):
        actions.delete_task(contributor.actor, assigned_to_them)
    actions.delete_task(contributor.actor, created_by_them)
    assert not Task.objects.filter(pk=created_by_them.pk).exists()


def test_comments_need_a_body_and_record_their_author(owner, make_task):
    task = make_task()
    with pytest.raises(InvalidInput) as caught:
        actions.add_comment(owner.actor, task, "   ")
    assert caught.value.field == "body"
    comment = actions.add_comment(owner.actor, task, "Left a voicemail")
    assert (comment.author, comment.author_name, comment.body) == (
        owner.member,
        owner.member.name,
        "Left a voicemail",
    )
