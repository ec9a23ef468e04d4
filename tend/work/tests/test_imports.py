"""Tasks and touchpoints imported from files through the data hub (registered by work):
keyed by external id, updated in place, rejected rows with their reasons, dry runs that
write nothing."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tend.hub import actions
from tend.hub.models import ImportStatus, RejectedRow
from tend.hub.running import run_import
from tend.work.models import Task, TaskStatus, Touchpoint

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.TEND_IMPORT_DIR = tmp_path / "imports"


def run(persona, text: str, object: str, *, dry_run=False):
    imp = actions.upload_file(
        persona.actor, SimpleUploadedFile(f"{object}.csv", text.encode()), object=object
    )
    actions.set_mapping(persona.actor, imp, {h: f for h, f in imp.mapping.items() if f})
    imp = actions.start_import(persona.actor, imp, dry_run=dry_run)
    run_import(imp.pk)
    imp.refresh_from_db()
    return imp


def reasons(imp):
    return dict(RejectedRow.objects.filter(import_run=imp).values_list("row_number", "reason"))


def tasks_file(owner):
    email = owner.member.user.email
    return (
        "Task ID,Account ID,Title,Due date,Assignee,Priority,Status\n"
        f"t-1,acme,Call the champion,2027-01-15,{email},high,\n"
        "t-2,globex,Send the QBR deck,,,,done\n"
        "t-3,nobody,Lost,,,,\n"
        "t-4,acme,Bad date,15/01/2027,,,\n"
        "t-5,acme,,2027-01-15,,,\n"
        "t-6,acme,Bad priority,,,whenever,\n"
        "t-7,acme,Stranger,,someone@else.test,,\n"
    )


def test_tasks_are_created_keyed_and_rejected_rows_named(owner, acme, globex, today):
    imp = run(owner, tasks_file(owner), "task")
    assert imp.mapping["Task ID"] == "external_id" and imp.mapping["Due date"] == "due_date"
    assert imp.status == ImportStatus.PARTIAL
    assert (imp.created, imp.updated, imp.unchanged, imp.rejected) == (2, 0, 0, 5)
    found = reasons(imp)
    assert found[4] == "Account ID: no account with external id 'nobody'"
    assert found[5] == "Due date: '15/01/2027' is not a date (expected YYYY-MM-DD)"
    assert found[6] == "Title: is required for a new task"
    assert found[7].startswith("Priority: must be one of")
    assert found[8] == "Assignee: no member with email 'someone@else.test' in this workspace"
    call = Task.objects.get(key="import:t-1")
    assert (call.account, call.title, call.due_date, call.assignee, call.priority) == (
        acme,
        "Call the champion",
        datetime.date(2027, 1, 15),
        owner.member,
        "high",
    )
    deck = Task.objects.get(key="import:t-2")
    assert (
        deck.status == TaskStatus.DONE and deck.completed_at is not None and deck.due_date == today
    )

    again = run(owner, tasks_file(owner), "task")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = run(
        owner,
        "Task ID,Account ID,Title,Status\nt-1,acme,Call the new champion,\nt-2,acme,,open\n",
        "task",
    )
    assert (changed.created, changed.updated, changed.rejected) == (0, 1, 1)
    assert reasons(changed)[3] == "Account ID: is on account 'globex'; an import does not move it"
    call.refresh_from_db()
    assert call.title == "Call the new champion" and call.priority == "high"  # blank cells keep
    assert Task.objects.filter(workspace=owner.workspace).count() == 2


def test_a_task_dry_run_writes_nothing(owner, acme, globex):
    dry = run(owner, tasks_file(owner), "task", dry_run=True)
    assert (dry.created, dry.rejected) == (2, 5)
    assert not Task.objects.exists()


TOUCHPOINTS = (
    "id,account,subject,type,occurred at,body,sentiment\n"
    "c-1,acme,Kick-off call,call,2026-10-01T15:30:00+02:00,Went well,positive\n"
    "c-2,acme,QBR,meeting,2026-10-05,,\n"
    "c-3,acme,Odd,carrier_pigeon,,,\n"
    "c-4,acme,When,call,yesterday,,\n"
    "c-5,globex,,call,,,\n"
    "c-1,acme,Twice,call,,,\n"
)


def test_touchpoints_are_created_keyed_and_rejected_rows_named(owner, acme, globex):
    imp = run(owner, TOUCHPOINTS, "touchpoint")
    assert imp.mapping["occurred at"] == "occurred_at"
    assert (imp.created, imp.updated, imp.unchanged, imp.rejected) == (1, 0, 0, 5)
    found = reasons(imp)
    assert found[2].startswith("duplicate key 'c-1'") and found[7].startswith("duplicate key 'c-1'")
    assert found[4].startswith("type: must be one of")
    assert (
        found[5] == "occurred at: 'yesterday' is not a date or a date and time (expected ISO 8601)"
    )
    assert found[6] == "subject: is required for a new touchpoint"
    qbr = Touchpoint.objects.get(key="import:c-2")
    assert qbr.subject == "QBR" and qbr.type == "meeting" and qbr.author == owner.member
    assert qbr.occurred_at == datetime.datetime(2026, 10, 5, tzinfo=datetime.UTC)
    fixed = run(
        owner, "id,account,subject,body\nc-2,acme,QBR (moved),Notes\nc-9,acme,New,\n", "touchpoint"
    )
    assert (fixed.created, fixed.updated, fixed.rejected) == (1, 1, 0)
    qbr.refresh_from_db()
    assert (qbr.subject, qbr.body, qbr.type) == ("QBR (moved)", "Notes", "meeting")


def test_a_viewer_cannot_import_tasks(viewer, acme):
    with pytest.raises(Exception) as caught:
        run(viewer, "id,account,title\nt-1,acme,x\n", "task")
    assert (
        "PermissionDenied" in type(caught.value).__name__ or caught.typename == "PermissionDenied"
    )
