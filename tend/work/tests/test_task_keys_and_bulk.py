"""Tasks made by automation (one per idempotency key, even when two callers race) and the
bulk actions over many tasks."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django_scopes import scope

from tend.lib.errors import InvalidInput
from tend.work import actions
from tend.work.models import Task

pytestmark = pytest.mark.django_db


def _play_task(account, today, member, key="play:7:run:1:step:2", **extra):
    return actions.create_account_task(
        account,
        title="Renewal prep",
        due_date=today + datetime.timedelta(days=30),
        assignee=member,
        type="renewal",
        play_id=7,
        source="Play: Renewal prep",
        key=key,
        **extra,
    )


def test_a_play_task_records_its_play_and_source(acme, today, practitioner):
    task, created = _play_task(acme, today, practitioner.member)
    assert created
    assert (task.play_id, task.source, task.created_by, task.assignee) == (
        7,
        "Play: Renewal prep",
        None,
        practitioner.member,
    )


def test_the_same_key_gives_the_same_task(acme, today, practitioner):
    first, created = _play_task(acme, today, practitioner.member)
    again, created_again = _play_task(acme, today, practitioner.member, priority="urgent")
    assert created and not created_again
    assert again.pk == first.pk and again.priority == "normal"
    other, created_other = _play_task(acme, today, practitioner.member, key="play:7:run:2:step:2")
    assert created_other and other.pk != first.pk
    assert Task.objects.count() == 2


def test_keys_are_unique_per_workspace_not_across(acme, today, practitioner, outsider):
    from tend.accounts.models import Account

    theirs = Account.objects.create(workspace=outsider.workspace, external_id="acme", name="Acme")
    ours, _ = _play_task(acme, today, practitioner.member)
    their_task, created = _play_task(theirs, today, outsider.member)
    assert created and their_task.pk != ours.pk


def test_tasks_without_a_key_are_never_merged(acme, today, practitioner):
    for _ in range(2):
        _play_task(acme, today, practitioner.member, key="")
    assert Task.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_callers_racing_with_one_key_make_one_task(workspace, practitioner):
    """Two threads, each in its own transaction and connection, create with the same key at
    once: one creates, the other gets that task back (on PostgreSQL the second insert waits
    for the first and hits the unique key; SQLite serialises the writers)."""
    from tend.accounts.models import Account

    account = Account.objects.create(workspace=workspace, external_id="race", name="Race")
    today = datetime.date.today()
    start = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            start.wait()
            with scope(workspace=workspace.pk):  # as a job runs: inside its workspace's scope
                results.append(_play_task(account, today, practitioner.member, key="race"))
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert sorted(created for _task, created in results) == [False, True]
    assert len({task.pk for task, _ in results}) == 1
    assert Task.objects.filter(key="race").count() == 1


# --- bulk -----------------------------------------------------------------------------------


def test_bulk_complete_reports_what_it_left_alone(owner, make_task):
    first, second, done = make_task(), make_task(), make_task()
    actions.complete_task(owner.actor, done)
    result = actions.bulk_update_tasks(owner.actor, "complete", [first.pk, second.pk, done.pk])
    assert result.changed == [first.pk, second.pk]
    assert result.unchanged == [{"id": done.pk, "reason": "the task is already done"}]
    assert Task.objects.filter(status="done").count() == 3


def test_bulk_reassign_reschedule_cancel(owner, practitioner, make_task, today):
    tasks = [make_task(days=-1), make_task(days=2)]
    ids = [t.pk for t in tasks]
    actions.bulk_update_tasks(owner.actor, "reassign", ids, assignee=practitioner.member.pk)
    later = today + datetime.timedelta(days=10)
    actions.bulk_update_tasks(owner.actor, "reschedule", ids, due_date=later)
    assert set(Task.objects.values_list("assignee", "due_date")) == {
        (practitioner.member.pk, later)
    }
    result = actions.bulk_update_tasks(owner.actor, "cancel", ids)
    assert result.changed == ids
    assert set(Task.objects.values_list("status", flat=True)) == {"cancelled"}


def test_bulk_refuses_whole_when_one_task_is_not_the_actors(
    owner, contributor, contributors_account, globex, make_task
):
    mine = make_task(account=contributors_account)
    not_mine = make_task(account=globex)
    with pytest.raises(PermissionDenied, match=str(not_mine.pk)):
        actions.bulk_update_tasks(contributor.actor, "complete", [mine.pk, not_mine.pk])
    assert not Task.objects.filter(status="done").exists()


@pytest.mark.parametrize(
    ("action", "ids", "extra", "field"),
    [
        ("complete", [], {}, "ids"),
        ("complete", list(range(1, actions.BULK_MAX + 2)), {}, "ids"),
        ("complete", ["x"], {}, "ids"),
        ("explode", [1], {}, "action"),
        ("reschedule", [1], {}, "due_date"),
        ("reassign", [1], {"assignee": 424242}, "assignee"),
    ],
)
def test_bulk_bad_input_names_the_field(owner, make_task, action, ids, extra, field):
    make_task()
    with pytest.raises(InvalidInput) as caught:
        actions.bulk_update_tasks(owner.actor, action, ids, **extra)
    assert caught.value.field == field


def test_bulk_ids_of_another_workspace_are_unknown(owner, outsider, make_task):
    from tend.accounts.models import Account

    theirs = Account.objects.create(workspace=outsider.workspace, external_id="g", name="G")
    their_task = actions.create_task(outsider.actor, theirs, {"title": "theirs"})
    ours = make_task()
    with pytest.raises(InvalidInput, match=f"no such tasks: {their_task.pk}"):
        actions.bulk_update_tasks(owner.actor, "complete", [ours.pk, their_task.pk])
    assert not Task.objects.filter(status="done").exists()
