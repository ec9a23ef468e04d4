"""The one write path for tasks and their comments.

Every function checks the actor's rights (``tend.work.queries`` says who may do what), runs
in a transaction and raises :class:`~tend.lib.errors.InvalidInput` naming the field for
input it refuses, so pages and the API report problems the same way.

:func:`create_account_task` is the entry point for automation (plays): the caller resolves
the assignee, and an idempotency ``key`` makes a step that runs twice create one task.
"""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from tend.accounts.models import Account
from tend.events import emit, emit_many
from tend.lib.errors import InvalidInput
from tend.work.models import Priority, Task, TaskComment, TaskStatus, TaskType
from tend.work.queries import (
    assigned_account_ids,
    can_change,
    can_delete,
    local_today,
    require_change,
)
from tend.workspaces.access import CONTRIBUTE, Actor
from tend.workspaces.models import Member, Seat

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
COMMENT_MAX = 10_000
KEY_MAX = 200
SOURCE_MAX = 200
# A bulk action names at most this many tasks: a page of the inbox is 100.
BULK_MAX = 500
EDITABLE = ("title", "description", "type", "priority", "due_date", "assignee", "status")


# --- validation ------------------------------------------------------------------------------


def _title(value) -> str:
    title = (value or "").strip() if isinstance(value, str) or value is None else None
    if not title:
        raise InvalidInput("title", "is required")
    if len(title) > TITLE_MAX:
        raise InvalidInput("title", f"must be at most {TITLE_MAX} characters")
    return title


def _text(name: str, value, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(name, "must be text")
    if len(value) > limit:
        raise InvalidInput(name, f"must be at most {limit:,} characters")
    return value.strip()


def _choice(name: str, value, choices) -> str:
    if value not in choices.values:
        raise InvalidInput(name, f"must be one of {', '.join(choices.values)}")
    return value


def _due_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise InvalidInput("due_date", "must be a date (YYYY-MM-DD)")
    return value


def _assignee(workspace, value) -> Member | None:
    """A member (or member id) who can work on tasks in ``workspace``, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, Member):
        member = value if value.workspace_id == workspace.pk else None
    else:
        try:
            member = Member.objects.select_related("user").get(workspace=workspace, pk=int(value))
        except (Member.DoesNotExist, ValueError, TypeError):
            member = None
    if member is None:
        raise InvalidInput("assignee", "is not a member of this workspace")
    if not member.is_active:
        raise InvalidInput("assignee", f"{member.name} is no longer active in this workspace")
    if member.seat == Seat.VIEWER:
        raise InvalidInput("assignee", f"{member.name} has a Viewer seat and cannot work on tasks")
    return member


def _check_account(actor: Actor, account: Account) -> None:
    if account is None or account.workspace_id != actor.workspace.pk:
        raise InvalidInput("account", "is not an account of this workspace")


def _fields(workspace, data: dict) -> dict:
    """The editable fields present in ``data``, validated."""
    clean = {}
    if "title" in data:
        clean["title"] = _title(data["title"])
    if "description" in data:
        clean["description"] = _text("description", data["description"], DESCRIPTION_MAX)
    if "type" in data:
        clean["type"] = _choice("type", data["type"], TaskType)
    if "priority" in data:
        clean["priority"] = _choice("priority", data["priority"], Priority)
    if "due_date" in data:
        clean["due_date"] = _due_date(data["due_date"])
    if "assignee" in data:
        clean["assignee"] = _assignee(workspace, data["assignee"])
    return clean


def _source_of(actor: Actor) -> str:
    if actor.token is not None:
        return f"API token {actor.token.name}"[:SOURCE_MAX]
    return ""


# --- creating ----------------------------------------------------------------------------------


def _insert(workspace, account, values: dict, key: str) -> tuple[Task, bool]:
    """Create the task; with a ``key`` already used in the workspace, return that task."""
    if key:
        existing = Task.objects.filter(workspace=workspace, key=key).first()
        if existing is not None:
            return existing, False
    try:
        # A savepoint: a concurrent twin that commits first makes this insert fail on the
        # unique key, and the surrounding transaction carries on with the twin's task.
        with transaction.atomic():
            task = Task.objects.create(workspace=workspace, account=account, key=key, **values)
    except IntegrityError:
        if not key:
            raise
        return Task.objects.get(workspace=workspace, key=key), False
    emit(workspace.pk, "task.created", {"task": task_event_data(task)})
    return task, True


def create_account_tasks(workspace, items: list[dict]) -> list[tuple[Task | None, bool, str]]:
    """Many :func:`create_account_task` calls at once, for a play step advancing many runs:
    each item has ``account`` and the same keyword arguments (``key`` required). Returns,
    in order, ``(task, created, "")`` or ``(None, False, why)`` for an item that does not
    validate. One insert for the new tasks (a key already used keeps its first task, as
    with one call) and one read of their ids; callers hold a transaction."""
    now = timezone.now()
    out: list[tuple[Task | None, bool, str]] = []
    rows: dict[str, Task] = {}
    for item in items:
        key = item["key"]
        try:
            values = _fields(
                workspace,
                {f: item[f] for f in ("title", "description", "type", "priority", "due_date", "assignee") if f in item},
            )
            values.update(
                play_id=item.get("play_id"),
                source=_text("source", item.get("source", ""), SOURCE_MAX),
                created_at=now,
                updated_at=now,
            )
            key = _text("key", key, KEY_MAX)
            if not key:
                raise InvalidInput("key", "is required here")
        except InvalidInput as exc:
            out.append((None, False, str(exc)))
            continue
        task = Task(workspace=workspace, account=item["account"], key=key, **values)
        rows.setdefault(key, task)
        out.append((task, True, ""))
    if not rows:
        return out
    existing = set(
        Task.objects.filter(workspace=workspace, key__in=list(rows)).values_list("key", flat=True)
    )
    Task.objects.bulk_create([t for k, t in rows.items() if k not in existing], ignore_conflicts=True)
    stored = {t.key: t for t in Task.objects.filter(workspace=workspace, key__in=list(rows)).select_related("assignee__user")}
    result = []
    for task, _created, why in out:
        if task is None:
            result.append((None, False, why))
        else:
            mine = stored[task.key]
            result.append((mine, task.key not in existing and mine.created_at == now, ""))
    created = {t.pk: t for t, is_new, _ in result if is_new}
    emit_many(
        workspace.pk, [("task.created", {"task": task_event_data(t)}) for t in created.values()], at=now
    )
    return result


def task_event_data(task: Task) -> dict:
    """What the task.* events say about a task (docs/webhooks.md)."""
    return {
        "id": task.pk,
        "account": {"id": task.account_id},
        "title": task.title,
        "status": task.status,
        "priority": task.priority,
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "assignee_id": task.assignee_id,
        "source": task.source,
        "completed_at": task.completed_at.isoformat() if task.completed_at else None,
    }


@transaction.atomic
def create_task_once(actor: Actor, account: Account, data: dict) -> tuple[Task, bool]:
    """A task on ``account`` from a person or token. ``data``: title (required),
    description, type, priority, due_date (default today in the workspace's time zone),
    assignee (a member or member id; when left out, whoever creates the task), key.

    Returns ``(task, created)``: with a ``key`` already used in the workspace, the task
    created with it first and ``False``."""
    actor.require(CONTRIBUTE)
    _check_account(actor, account)
    workspace = actor.workspace
    values = _fields(workspace, data)
    if "title" not in values:
        raise InvalidInput("title", "is required")
    if "assignee" not in data:
        values["assignee"] = actor.member
    values.setdefault("due_date", local_today(workspace))
    key = _text("key", data.get("key"), KEY_MAX)
    now = timezone.now()
    values.update(created_by=actor.member, source=_source_of(actor), created_at=now, updated_at=now)
    return _insert(workspace, account, values, key)


def create_task(actor: Actor, account: Account, data: dict) -> Task:
    """:func:`create_task_once` without saying whether the task is new."""
    return create_task_once(actor, account, data)[0]


@transaction.atomic
def create_account_task(
    account: Account,
    *,
    title: str,
    due_date: datetime.date,
    assignee: Member | None,
    description: str = "",
    type: str = TaskType.OTHER,
    priority: str = Priority.NORMAL,
    play_id: int | None = None,
    source: str = "",
    key: str = "",
) -> tuple[Task, bool]:
    """A task created by automation (a play step) for ``account``; the caller has resolved
    the assignee (an assignment role, a named member, round robin).

    With a ``key`` (unique in the workspace, e.g. ``play:7:run:123:step:2``) a second call
    returns the first call's task and ``False`` instead of creating another: play steps
    run at least once, and a retried step must not give the CSM the same task twice.
    Returns ``(task, created)``.
    """
    workspace = account.workspace
    values = _fields(
        workspace,
        {
            "title": title,
            "description": description,
            "type": type,
            "priority": priority,
            "due_date": due_date,
            "assignee": assignee,
        },
    )
    now = timezone.now()
    values.update(
        play_id=play_id,
        source=_text("source", source, SOURCE_MAX),
        created_at=now,
        updated_at=now,
    )
    return _insert(workspace, account, values, _text("key", key, KEY_MAX))


# --- changing ----------------------------------------------------------------------------------


def _close(task: Task, status: str, actor: Actor, now) -> None:
    task.status = status
    task.completed_at = now
    task.completed_by = actor.member


def _complete(task: Task, actor: Actor, now) -> None:
    if task.status == TaskStatus.DONE:
        raise InvalidInput("status", "the task is already done")
    if task.status == TaskStatus.CANCELLED:
        raise InvalidInput("status", "the task is cancelled: reopen it before completing it")
    _close(task, TaskStatus.DONE, actor, now)
    emit(task.workspace_id, "task.completed", {"task": task_event_data(task)}, at=now)


def _cancel(task: Task, actor: Actor, now) -> None:
    if task.status == TaskStatus.CANCELLED:
        raise InvalidInput("status", "the task is already cancelled")
    if task.status == TaskStatus.DONE:
        raise InvalidInput("status", "the task is done: reopen it before cancelling it")
    _close(task, TaskStatus.CANCELLED, actor, now)


def _reopen(task: Task, actor: Actor, now) -> None:
    if task.status == TaskStatus.OPEN:
        raise InvalidInput("status", "the task is already open")
    task.status = TaskStatus.OPEN
    task.completed_at = None
    task.completed_by = None


TRANSITIONS = {TaskStatus.DONE: _complete, TaskStatus.CANCELLED: _cancel, TaskStatus.OPEN: _reopen}


def _save(task: Task, now) -> Task:
    task.updated_at = now
    task.save()
    return task


@transaction.atomic
def update_task(actor: Actor, task: Task, changes: dict) -> Task:
    """Change any of title, description, type, priority, due_date, assignee and status
    (``done`` completes, ``cancelled`` cancels, ``open`` reopens)."""
    require_change(actor, task)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "cannot be changed")
    values = _fields(actor.workspace, changes)
    now = timezone.now()
    for name, value in values.items():
        setattr(task, name, value)
    if "status" in changes and changes["status"] != task.status:
        status = _choice("status", changes["status"], TaskStatus)
        TRANSITIONS[status](task, actor, now)
    return _save(task, now)


def _transition(actor: Actor, task: Task, status: str) -> Task:
    require_change(actor, task)
    now = timezone.now()
    TRANSITIONS[status](task, actor, now)
    return _save(task, now)


@transaction.atomic
def complete_task(actor: Actor, task: Task) -> Task:
    return _transition(actor, task, TaskStatus.DONE)


@transaction.atomic
def cancel_task(actor: Actor, task: Task) -> Task:
    return _transition(actor, task, TaskStatus.CANCELLED)


@transaction.atomic
def reopen_task(actor: Actor, task: Task) -> Task:
    return _transition(actor, task, TaskStatus.OPEN)


@transaction.atomic
def reassign(actor: Actor, task: Task, assignee) -> Task:
    """Give the task to another member (or to nobody, with None)."""
    return update_task(actor, task, {"assignee": assignee})


@transaction.atomic
def reschedule(actor: Actor, task: Task, due_date: datetime.date) -> Task:
    return update_task(actor, task, {"due_date": due_date})


@transaction.atomic
def delete_task(actor: Actor, task: Task) -> None:
    """Writers delete any task; a contributor only a task they created."""
    if not can_delete(actor, task):
        raise PermissionDenied(
            "A Contributor seat deletes only the tasks they created."
            if actor.can(CONTRIBUTE)
            else actor.denial(CONTRIBUTE)
        )
    task.delete()


@transaction.atomic
def add_comment(actor: Actor, task: Task, body: str) -> TaskComment:
    """Any seat but viewer comments on any task of the workspace."""
    actor.require(CONTRIBUTE)
    text = _text("body", body, COMMENT_MAX)
    if not text:
        raise InvalidInput("body", "is required")
    now = timezone.now()
    comment = TaskComment.objects.create(
        workspace=task.workspace,
        task=task,
        author=actor.member,
        author_label="" if actor.member else actor.label,
        body=text,
        created_at=now,
    )
    Task.objects.filter(pk=task.pk).update(updated_at=now)
    return comment


# --- bulk --------------------------------------------------------------------------------------

BULK_ACTIONS = ("complete", "cancel", "reopen", "reassign", "reschedule")


@dataclass
class BulkResult:
    """What a bulk action did: the tasks changed, and each task left as it was with why."""

    action: str
    changed: list[int] = field(default_factory=list)
    unchanged: list[dict] = field(default_factory=list)  # {"id", "reason"}


def _bulk_ids(ids) -> list[int]:
    if not isinstance(ids, list | tuple) or not ids:
        raise InvalidInput("ids", "choose at least one task")
    try:
        wanted = list(dict.fromkeys(int(i) for i in ids))
    except (TypeError, ValueError) as exc:
        raise InvalidInput("ids", "must be task ids (whole numbers)") from exc
    if len(wanted) > BULK_MAX:
        raise InvalidInput("ids", f"at most {BULK_MAX} tasks at once ({len(wanted)} given)")
    return wanted


@transaction.atomic
def bulk_update_tasks(
    actor: Actor, action: str, ids, *, assignee=None, due_date=None
) -> BulkResult:
    """Complete, cancel, reopen, reassign or reschedule many tasks at once.

    Steps: check the ids (1 to ``BULK_MAX``, every one a task of the workspace, else 422
    naming ``ids``); check the actor may change every one (else 403 and nothing changes);
    then change each task whose status allows it and report the others with the reason.
    """
    actor.require(CONTRIBUTE)
    if action not in BULK_ACTIONS:
        raise InvalidInput("action", f"must be one of {', '.join(BULK_ACTIONS)}")
    wanted = _bulk_ids(ids)
    target = None
    if action == "reassign":
        target = _assignee(actor.workspace, assignee)
    elif action == "reschedule":
        if due_date is None:
            raise InvalidInput("due_date", "is required to reschedule")
        target = _due_date(due_date)
    tasks = {
        t.pk: t
        for t in Task.objects.filter(workspace=actor.workspace, pk__in=wanted).select_for_update()
    }
    missing = [i for i in wanted if i not in tasks]
    if missing:
        raise InvalidInput("ids", f"no such tasks: {', '.join(map(str, missing[:20]))}")
    assigned = assigned_account_ids(actor.member, {t.account_id for t in tasks.values()})
    refused = [i for i in wanted if not can_change(actor, tasks[i], assigned)]
    if refused:
        raise PermissionDenied(
            f"You may not change tasks {', '.join(map(str, refused[:20]))}; nothing was changed."
        )
    result = BulkResult(action)
    now = timezone.now()
    for pk in wanted:
        task = tasks[pk]
        try:
            if action == "complete":
                _complete(task, actor, now)
            elif action == "cancel":
                _cancel(task, actor, now)
            elif action == "reopen":
                _reopen(task, actor, now)
            elif action == "reassign":
                if task.assignee_id == (target.pk if target else None):
                    raise InvalidInput("assignee", "already assigned so")
                task.assignee = target
            else:
                if task.due_date == target:
                    raise InvalidInput("due_date", "already due that day")
                task.due_date = target
        except InvalidInput as exc:
            result.unchanged.append({"id": pk, "reason": exc.message})
            continue
        _save(task, now)
        result.changed.append(pk)
    return result
