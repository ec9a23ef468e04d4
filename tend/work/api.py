"""``/tasks``: list, get, create, change, complete and delete tasks, their comments, and bulk
changes.

Reads need the read scope; changes the rights ``tend.work.queries`` describes (a token with
the ``write`` scope changes every task), checked by the actions. Lists are paged by cursor,
newest id last; every 4xx answer names the field at fault.
"""

import datetime
from typing import Literal

from django.conf import settings
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tend.accounts.models import Account
from tend.accounts.schemas import Strict
from tend.lib.api_schemas import ERRORS
from tend.lib.cursor import encode_cursor, id_cursor
from tend.lib.errors import InvalidInput
from tend.work import actions
from tend.work.models import Task, TaskComment
from tend.work.queries import assigned_account_ids, can_change, get_task, tasks_of, with_people
from tend.workspaces.access import READ, Actor
from tend.workspaces.models import Member

router = Router(tags=["tasks"])

TypeName = Literal["call", "email", "meeting", "follow_up", "onboarding", "renewal", "other"]
PriorityName = Literal["low", "normal", "high", "urgent"]
StatusName = Literal["open", "done", "cancelled"]
BulkAction = Literal["complete", "cancel", "reopen", "reassign", "reschedule"]


class PersonOut(Schema):
    id: int
    name: str
    email: str


class TaskAccountOut(Schema):
    id: int
    external_id: str
    name: str


class TaskOut(Schema):
    id: int
    account: TaskAccountOut
    title: str
    description: str = Field(..., description="Markdown.")
    type: TypeName
    priority: PriorityName
    due_date: datetime.date
    status: StatusName
    assignee: PersonOut | None
    created_by: PersonOut | None
    completed_at: datetime.datetime | None
    completed_by: PersonOut | None
    play_id: int | None = Field(..., description="The play that created the task, if one did.")
    source: str = Field(..., description='Where it came from, e.g. "Play: Renewal prep".')
    key: str = Field(..., description="The idempotency key it was created with, if any.")
    can_change: bool = Field(..., description="Whether the caller may change this task.")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class TaskIn(Strict):
    account_id: int | None = Field(None, description="The account's Tend id …")
    account_external_id: str | None = Field(None, description="… or its external id.")
    title: str = Field(..., min_length=1, max_length=actions.TITLE_MAX)
    description: str = Field("", max_length=actions.DESCRIPTION_MAX)
    type: TypeName = "other"
    priority: PriorityName = "normal"
    due_date: datetime.date | None = Field(
        None, description="Default: today in the workspace's time zone."
    )
    assignee: int | str | None = Field(
        None,
        description="A member id or email; default: the member who created the token. "
        "null leaves the task unassigned.",
    )
    key: str = Field(
        "",
        max_length=actions.KEY_MAX,
        description="Idempotency key, unique in the workspace: a repeat returns the first task.",
    )


class TaskPatch(Strict):
    title: str | None = Field(None, min_length=1, max_length=actions.TITLE_MAX)
    description: str | None = Field(None, max_length=actions.DESCRIPTION_MAX)
    type: TypeName | None = None
    priority: PriorityName | None = None
    due_date: datetime.date | None = None
    status: StatusName | None = Field(
        None, description="done completes, cancelled cancels, open reopens."
    )
    assignee: int | str | None = Field(None, description="A member id or email; null unassigns.")


class TaskFilters(Schema):
    limit: int = Field(settings.TEND_PAGE_SIZE_DEFAULT, ge=1, le=settings.TEND_PAGE_SIZE_MAX)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")
    account_id: int | None = None
    account_external_id: str | None = None
    status: StatusName | None = None
    assignee: str | None = Field(
        None, description='A member id or email, "me" (the token\'s creator), or "none".'
    )
    type: TypeName | None = None
    due_before: datetime.date | None = Field(None, description="Due on or before this day.")
    due_after: datetime.date | None = Field(None, description="Due on or after this day.")


class CommentOut(Schema):
    id: int
    author: PersonOut | None
    author_name: str
    body: str = Field(..., description="Markdown.")
    created_at: datetime.datetime


class CommentPage(Schema):
    items: list[CommentOut]
    next_cursor: str | None


class CommentIn(Strict):
    # Not required here: an empty body is refused by the action (422 naming ``body``) after
    # the task was found, so another workspace's task id answers 404 whatever the body.
    body: str = Field("", max_length=actions.COMMENT_MAX, description="Markdown; required.")


class CommentFilters(Schema):
    limit: int = Field(settings.TEND_PAGE_SIZE_DEFAULT, ge=1, le=settings.TEND_PAGE_SIZE_MAX)
    cursor: str | None = None


class BulkIn(Strict):
    action: BulkAction
    ids: list[int] = Field(..., min_length=1, max_length=actions.BULK_MAX)
    assignee: int | str | None = Field(None, description="For reassign: member id or email.")
    due_date: datetime.date | None = Field(None, description="For reschedule.")


class UnchangedOut(Schema):
    id: int
    reason: str


class BulkOut(Schema):
    action: BulkAction
    changed: list[int]
    unchanged: list[UnchangedOut]


# --- helpers ---------------------------------------------------------------------------------


def _person(member: Member | None) -> dict | None:
    if member is None:
        return None
    return {"id": member.pk, "name": member.name, "email": member.user.email}


def task_out(task: Task, actor: Actor, assigned: set[int] | None = None) -> dict:
    account = task.account
    return {
        "id": task.pk,
        "account": {"id": account.pk, "external_id": account.external_id, "name": account.name},
        "title": task.title,
        "description": task.description,
        "type": task.type,
        "priority": task.priority,
        "due_date": task.due_date,
        "status": task.status,
        "assignee": _person(task.assignee),
        "created_by": _person(task.created_by),
        "completed_at": task.completed_at,
        "completed_by": _person(task.completed_by),
        "play_id": task.play_id,
        "source": task.source,
        "key": task.key,
        "can_change": can_change(actor, task, assigned),
        "created_at": task.created_at,
        "updated_at": task.updated_at,
    }


def _one(actor: Actor, pk: int) -> dict:
    return task_out(get_task(actor, pk, queryset=with_people(Task.objects.all())), actor)


def _member(actor: Actor, value, field: str = "assignee") -> Member | None:
    """A member named by id, email or ``me``; None for ``none``/null."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return None
    members = Member.objects.filter(workspace=actor.workspace).select_related("user")
    if isinstance(value, str) and value.strip().lower() == "me":
        member = actor.member or (actor.token.created_by if actor.token else None)
        if member is None:
            raise InvalidInput(field, '"me" needs a member: this token was created by no one')
        return member
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        member = members.filter(pk=int(value)).first()
    else:
        member = members.filter(user__email__iexact=str(value).strip()).first()
    if member is None:
        raise InvalidInput(field, f"no member {value!r} in this workspace")
    return member


def _account(actor: Actor, account_id, external_id) -> Account:
    if account_id is None and not external_id:
        raise InvalidInput("account_id", "give account_id or account_external_id")
    accounts = Account.objects.filter(workspace=actor.workspace)
    if account_id is not None:
        account, field = accounts.filter(pk=account_id).first(), "account_id"
    else:
        account, field = accounts.filter(external_id=external_id).first(), "account_external_id"
    if account is None:
        raise InvalidInput(field, "no such account in this workspace")
    return account


# --- tasks -----------------------------------------------------------------------------------


@router.get("/tasks", response={200: TaskPage, **ERRORS}, summary="List tasks")
def list_tasks(request, filters: Query[TaskFilters]):
    """Tasks of the workspace by id, filtered by account, status, assignee, type and due day."""
    actor = request.auth
    actor.require(READ)
    tasks = with_people(tasks_of(actor))
    if filters.account_id is not None:
        tasks = tasks.filter(account_id=filters.account_id)
    if filters.account_external_id is not None:
        tasks = tasks.filter(account__external_id=filters.account_external_id)
    if filters.status:
        tasks = tasks.filter(status=filters.status)
    if filters.assignee is not None:
        tasks = tasks.filter(assignee=_member(actor, filters.assignee))
    if filters.type:
        tasks = tasks.filter(type=filters.type)
    if filters.due_before:
        tasks = tasks.filter(due_date__lte=filters.due_before)
    if filters.due_after:
        tasks = tasks.filter(due_date__gte=filters.due_after)
    after = id_cursor(filters.cursor)
    if after is not None:
        tasks = tasks.filter(id__gt=after)
    rows = list(tasks.order_by("id")[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    assigned = assigned_account_ids(actor.member, {t.account_id for t in rows})
    return {
        "items": [task_out(t, actor, assigned) for t in rows],
        "next_cursor": encode_cursor({"id": rows[-1].pk}) if more else None,
    }


@router.get("/tasks/{int:id}", response={200: TaskOut, **ERRORS}, summary="Get a task")
def get_one(request, id: int):
    return _one(request.auth, id)


@router.post(
    "/tasks",
    response={201: TaskOut, 200: TaskOut, **ERRORS},
    summary="Create a task",
    description=(
        "Name the account by `account_id` or `account_external_id`. Any seat but viewer "
        "(a token with the write scope). With a `key` already used, answers 200 with the "
        "task created the first time."
    ),
)
def post_task(request, payload: TaskIn):
    actor = request.auth
    data = payload.dict(exclude_unset=True)
    account = _account(actor, data.pop("account_id", None), data.pop("account_external_id", None))
    if "assignee" in data:
        data["assignee"] = _member(actor, data["assignee"])
    elif actor.member is None and actor.token is not None:
        data["assignee"] = actor.token.created_by
    if data.get("due_date") is None:
        data.pop("due_date", None)
    task, created = actions.create_task_once(actor, account, data)
    # A repeat with a used key answers 200 with the first task, not 201.
    return Status(201 if created else 200, _one(actor, task.pk))


@router.patch("/tasks/{int:id}", response={200: TaskOut, **ERRORS}, summary="Change a task")
def patch_task(request, id: int, payload: TaskPatch):
    actor = request.auth
    task = get_task(actor, id)
    changes = payload.dict(exclude_unset=True)
    for name in ("title", "type", "priority", "due_date", "status"):
        if name in changes and changes[name] is None:
            raise InvalidInput(name, "must not be null")
    if "assignee" in changes:
        changes["assignee"] = _member(actor, changes["assignee"])
    actions.update_task(actor, task, changes)
    return _one(actor, id)


@router.delete("/tasks/{int:id}", response={204: None, **ERRORS}, summary="Delete a task")
def remove_task(request, id: int):
    actor = request.auth
    actions.delete_task(actor, get_task(actor, id))
    return Status(204, None)


def _transition(request, id: int, action) -> dict:
    actor = request.auth
    action(actor, get_task(actor, id))
    return _one(actor, id)


@router.post(
    "/tasks/{int:id}/complete", response={200: TaskOut, **ERRORS}, summary="Complete a task"
)
def complete(request, id: int):
    """An open task becomes done, stamped with when and by whom; any other status is a 422."""
    return _transition(request, id, actions.complete_task)


@router.post("/tasks/{int:id}/reopen", response={200: TaskOut, **ERRORS}, summary="Reopen a task")
def reopen(request, id: int):
    return _transition(request, id, actions.reopen_task)


@router.post("/tasks/{int:id}/cancel", response={200: TaskOut, **ERRORS}, summary="Cancel a task")
def cancel(request, id: int):
    return _transition(request, id, actions.cancel_task)


@router.post(
    "/tasks/bulk",
    response={200: BulkOut, **ERRORS},
    summary="Change many tasks at once",
    description=(
        f"Up to {actions.BULK_MAX} ids. Refused whole (403) when any task may not be changed "
        "by the caller, and (422) when any id is unknown; tasks whose status does not allow "
        "the action are listed in `unchanged` with the reason."
    ),
)
def bulk(request, payload: BulkIn):
    actor = request.auth
    assignee = _member(actor, payload.assignee) if payload.action == "reassign" else None
    result = actions.bulk_update_tasks(
        actor, payload.action, payload.ids, assignee=assignee, due_date=payload.due_date
    )
    return {"action": result.action, "changed": result.changed, "unchanged": result.unchanged}


# --- comments --------------------------------------------------------------------------------


def comment_out(comment: TaskComment) -> dict:
    return {
        "id": comment.pk,
        "author": _person(comment.author),
        "author_name": comment.author_name,
        "body": comment.body,
        "created_at": comment.created_at,
    }


@router.get(
    "/tasks/{int:id}/comments", response={200: CommentPage, **ERRORS}, summary="A task's comments"
)
def list_comments(request, id: int, params: Query[CommentFilters]):
    """Oldest first."""
    task = get_task(request.auth, id)
    comments = TaskComment.objects.filter(task=task).select_related("author__user")
    after = id_cursor(params.cursor)
    if after is not None:
        comments = comments.filter(id__gt=after)
    rows = list(comments.order_by("id")[: params.limit + 1])
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    return {
        "items": [comment_out(c) for c in rows],
        "next_cursor": encode_cursor({"id": rows[-1].pk}) if more else None,
    }


@router.post(
    "/tasks/{int:id}/comments", response={201: CommentOut, **ERRORS}, summary="Comment on a task"
)
def post_comment(request, id: int, payload: CommentIn):
    actor = request.auth
    comment = actions.add_comment(actor, get_task(actor, id), payload.body)
    return Status(201, comment_out(comment))
