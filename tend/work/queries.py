"""Reading tasks: the access chokepoint, who may change which, and the workspace's today.

Rights follow the seats, as for accounts (``tend.workspaces.models.SEAT_HELP``):

* every member reads every task of the workspace (tokens: the ``read`` scope);
* admins and practitioners change every task (tokens: the ``write`` scope);
* contributors add tasks to any account and change the tasks that are theirs — assigned to
  them, created by them, or about an account assigned to them;
* viewers change nothing.

Pages and API handlers fetch a task with :func:`get_task` (404 outside the workspace, 403
when a change is not allowed); lists start from :func:`tasks_of`.
"""

import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from tend.accounts.conditions import condition_now
from tend.accounts.models import Assignment
from tend.work.models import Project, ProjectTemplate, Task, TaskStatus, Touchpoint
from tend.workspaces.access import CONTRIBUTE, READ, WRITE, Actor
from tend.workspaces.models import Member, Workspace


def local_today(workspace: Workspace, now: datetime.datetime | None = None) -> datetime.date:
    """Today in the workspace's time zone: what "overdue" and "due today" are measured by."""
    return condition_now(workspace, now).date()


def tasks_of(actor: Actor) -> QuerySet:
    return Task.objects.filter(workspace=actor.workspace)


def assigned_account_ids(member: Member | None, account_ids) -> set[int]:
    """Which of ``account_ids`` are assigned to ``member`` (one query)."""
    if member is None:
        return set()
    return set(
        Assignment.objects.filter(member=member, account_id__in=list(account_ids)).values_list(
            "account_id", flat=True
        )
    )


def can_change(actor: Actor, task: Task, assigned: set[int] | None = None) -> bool:
    """Whether ``actor`` may change ``task``. ``assigned`` (the actor's assigned account ids
    among a page's tasks) saves a query per row in lists."""
    if actor.can(WRITE):
        return True
    member = actor.member
    if member is None or not actor.can(CONTRIBUTE):
        return False
    if member.pk in (task.assignee_id, task.created_by_id):
        return True
    if assigned is None:
        assigned = assigned_account_ids(member, [task.account_id])
    return task.account_id in assigned


def can_delete(actor: Actor, task: Task) -> bool:
    """Writers delete any task; a contributor only one they created."""
    if actor.can(WRITE):
        return True
    member = actor.member
    return member is not None and task.created_by_id == member.pk and actor.can(CONTRIBUTE)


def require_change(actor: Actor, task: Task) -> None:
    if not can_change(actor, task):
        if not actor.can(CONTRIBUTE):
            raise PermissionDenied(actor.denial(CONTRIBUTE))
        raise PermissionDenied(
            "A Contributor seat changes only the tasks assigned to them, created by them, "
            "or about the accounts assigned to them."
        )


def get_task(actor: Actor, pk, *, change: bool = False, queryset: QuerySet | None = None) -> Task:
    """The task ``pk`` of the actor's workspace (404 otherwise); with ``change``, 403 unless
    the actor may change it."""
    queryset = queryset if queryset is not None else Task.objects.all()
    try:
        task = queryset.filter(workspace=actor.workspace).get(pk=pk)
    except (Task.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No task matches the given query.") from exc
    actor.require(READ)
    if change:
        require_change(actor, task)
    return task


def with_people(queryset: QuerySet) -> QuerySet:
    """What a task's row shows: its account and people, fetched with it."""
    return queryset.select_related(
        "account", "assignee__user", "created_by__user", "completed_by__user"
    )


def assignable_members(workspace: Workspace) -> QuerySet:
    """Who a task may be assigned to: active members whose seat can work on tasks."""
    return (
        Member.objects.filter(workspace=workspace, is_active=True)
        .exclude(seat="viewer")
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


# --- touchpoints -------------------------------------------------------------------------------
# Every member reads every touchpoint of the workspace; any seat but viewer logs them; writers
# change and delete any, a contributor those they logged.


def can_change_touchpoint(actor: Actor, touchpoint: Touchpoint) -> bool:
    if actor.can(WRITE):
        return True
    member = actor.member
    return member is not None and actor.can(CONTRIBUTE) and touchpoint.author_id == member.pk


def touchpoint_people(queryset: QuerySet) -> QuerySet:
    """What a touchpoint shows: its account, author, participants, follow-up and files,
    fetched with it (four more queries for a whole page)."""
    return queryset.select_related("account", "author__user", "follow_up_task").prefetch_related(
        "members__user", "contacts", "mentions__member__user", "attachments"
    )


def get_touchpoint(actor: Actor, pk, *, queryset: QuerySet | None = None) -> Touchpoint:
    """The touchpoint ``pk`` of the actor's workspace, or 404."""
    queryset = queryset if queryset is not None else Touchpoint.objects.all()
    try:
        touchpoint = queryset.filter(workspace=actor.workspace).get(pk=pk)
    except (Touchpoint.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No touchpoint matches the given query.") from exc
    actor.require(READ)
    return touchpoint


# --- projects ----------------------------------------------------------------------------------
# Every member reads every project and template; starting a project is a contributor's right,
# changing templates an admin's.


def get_project(actor: Actor, pk) -> Project:
    """The project ``pk`` of the actor's workspace with its progress annotated, or 404."""
    try:
        project = (
            Project.objects.filter(workspace=actor.workspace)
            .with_progress()
            .select_related("account", "template", "created_by__user", "cancelled_by__user")
            .get(pk=pk)
        )
    except (Project.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No project matches the given query.") from exc
    actor.require(READ)
    return project


def can_manage_project(actor: Actor, project: Project) -> bool:
    """Renaming, cancelling and deleting a project: writers any, a contributor one they
    started (as for tasks)."""
    if actor.can(WRITE):
        return True
    member = actor.member
    return member is not None and actor.can(CONTRIBUTE) and project.created_by_id == member.pk


def require_manage_project(actor: Actor, project: Project) -> None:
    if not can_manage_project(actor, project):
        if not actor.can(CONTRIBUTE):
            raise PermissionDenied(actor.denial(CONTRIBUTE))
        raise PermissionDenied("A Contributor seat changes only the projects they started.")


def get_template(actor: Actor, pk) -> ProjectTemplate:
    try:
        template = ProjectTemplate.objects.filter(workspace=actor.workspace).get(pk=pk)
    except (ProjectTemplate.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No project template matches the given query.") from exc
    actor.require(READ)
    return template


def project_tasks(project: Project) -> QuerySet:
    return with_people(
        Task.objects.filter(workspace_id=project.workspace_id, project=project)
    ).order_by("due_date", "id")


def project_summary(
    project: Project, workspace: Workspace, tasks: list[Task] | None = None
) -> dict:
    """What the project page and the API show: progress, overdue tasks, expected and actual
    go-live (the day, in the workspace's time zone, its last task was done, once none is
    open). ``project`` carries ``with_progress``'s annotations."""
    today = local_today(workspace)
    actual = None
    if project.cancelled_at is None and project.open_count == 0 and project.last_done is not None:
        actual = condition_now(workspace, project.last_done).date()
    overdue = [t for t in (tasks or []) if t.status == TaskStatus.OPEN and t.due_date < today]
    return {
        "done": project.done,
        "total": project.total,
        "percent": round(100 * project.done / project.total) if project.total else 0,
        "open": project.open_count,
        "overdue": overdue,
        "expected_go_live": project.expected_go_live,
        "actual_go_live": actual,
        "status": "cancelled"
        if project.cancelled_at is not None
        else "active"
        if project.open_count
        else "completed",
        "today": today,
    }
