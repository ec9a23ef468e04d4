"""The one write path for projects and their templates.

A template's ``milestones`` are validated here, for the API and the pages alike, and every
refusal is an :class:`~tend.lib.errors.InvalidInput` naming the field, down to the task:
``milestones[1].tasks[0].offset_days``.

Starting a project (:func:`start_project` for a person, :func:`start_account_project` for
a play step) copies the template into a :class:`~tend.work.models.Project`, its milestones
and its tasks in one transaction: each task is due ``start + offset_days`` (the start is a
day in the workspace's time zone, today by default, as task due dates are) and goes to the
member holding the task's assignment role on the account — or, when nobody (active, not a
viewer) holds it, to the fallback member, else to nobody. With a ``key`` a second start
returns the first project: play steps run at least once.
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from tend.accounts.models import Account, Assignment, AssignmentRole
from tend.lib.errors import InvalidInput
from tend.work.actions.tasks import DESCRIPTION_MAX, KEY_MAX, SOURCE_MAX, TITLE_MAX, _text
from tend.work.models import (
    Project,
    ProjectMilestone,
    ProjectTemplate,
    Task,
    TaskStatus,
    TaskType,
)
from tend.work.queries import local_today, require_manage_project
from tend.workspaces.access import ADMIN, CONTRIBUTE, Actor
from tend.workspaces.models import Member, Seat

__all__ = [
    "TEMPLATE_NAME_MAX",
    "MILESTONES_MAX",
    "TASKS_MAX",
    "OFFSET_MAX",
    "clean_milestones",
    "create_template",
    "update_template",
    "delete_template",
    "start_project",
    "start_account_project",
    "rename_project",
    "cancel_project",
    "delete_project",
]

TEMPLATE_NAME_MAX = 120
MILESTONE_NAME_MAX = 120
MILESTONES_MAX = 30
TASKS_MAX = 200  # in the whole template
OFFSET_MAX = 730
PROJECT_NAME_MAX = 200


def _int(field: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, "must be a whole number of days")
    if not 0 <= value <= OFFSET_MAX:
        raise InvalidInput(field, f"must be between 0 and {OFFSET_MAX}")
    return value


def clean_milestones(workspace, value) -> list[dict]:
    """``value`` checked and normalised: milestones with a name and at least one task; each
    task a title, ``offset_days`` (0–730), an assignment ``role`` key of the workspace (or
    empty), a description and a task type."""
    if not isinstance(value, list) or not value:
        raise InvalidInput("milestones", "must be a list with at least one milestone")
    if len(value) > MILESTONES_MAX:
        raise InvalidInput("milestones", f"must have at most {MILESTONES_MAX} milestones")
    roles = set(AssignmentRole.objects.filter(workspace=workspace).values_list("key", flat=True))
    out, count = [], 0
    for i, milestone in enumerate(value):
        where = f"milestones[{i}]"
        if not isinstance(milestone, dict):
            raise InvalidInput(where, "must be an object with a name and tasks")
        unknown = set(milestone) - {"name", "tasks"}
        if unknown:
            raise InvalidInput(f"{where}.{sorted(unknown)[0]}", "is not a field of a milestone")
        name = _text(f"{where}.name", milestone.get("name"), MILESTONE_NAME_MAX)
        if not name:
            raise InvalidInput(f"{where}.name", "is required")
        tasks = milestone.get("tasks")
        if not isinstance(tasks, list) or not tasks:
            raise InvalidInput(f"{where}.tasks", "must be a list with at least one task")
        clean_tasks = []
        for j, task in enumerate(tasks):
            at = f"{where}.tasks[{j}]"
            if not isinstance(task, dict):
                raise InvalidInput(at, "must be an object with a title and offset_days")
            unknown = set(task) - {"title", "offset_days", "role", "description", "type"}
            if unknown:
                raise InvalidInput(f"{at}.{sorted(unknown)[0]}", "is not a field of a task")
            title = _text(f"{at}.title", task.get("title"), TITLE_MAX)
            if not title:
                raise InvalidInput(f"{at}.title", "is required")
            if "offset_days" not in task:
                raise InvalidInput(f"{at}.offset_days", "is required (days after the start)")
            offset = _int(f"{at}.offset_days", task["offset_days"])
            role = _text(f"{at}.role", task.get("role"), 63)
            if role and role not in roles:
                raise InvalidInput(f"{at}.role", f"no assignment role with key {role!r}")
            kind = task.get("type") or TaskType.OTHER
            if kind not in TaskType.values:
                raise InvalidInput(f"{at}.type", f"must be one of {', '.join(TaskType.values)}")
            clean_tasks.append(
                {
                    "title": title,
                    "offset_days": offset,
                    "role": role,
                    "description": _text(
                        f"{at}.description", task.get("description"), DESCRIPTION_MAX
                    ),
                    "type": kind,
                }
            )
        count += len(clean_tasks)
        if count > TASKS_MAX:
            raise InvalidInput("milestones", f"must have at most {TASKS_MAX} tasks in all")
        out.append({"name": name, "tasks": clean_tasks})
    return out


def _template_fields(actor: Actor, data: dict, template: ProjectTemplate | None) -> dict:
    clean = {}
    if "name" in data or template is None:
        name = _text("name", data.get("name"), TEMPLATE_NAME_MAX)
        if not name:
            raise InvalidInput("name", "is required")
        taken = ProjectTemplate.objects.filter(workspace=actor.workspace, name__iexact=name)
        if template is not None:
            taken = taken.exclude(pk=template.pk)
        if taken.exists():
            raise InvalidInput("name", f"a template named {name!r} already exists")
        clean["name"] = name
    if "description" in data:
        clean["description"] = _text("description", data["description"], DESCRIPTION_MAX)
    if "milestones" in data or template is None:
        clean["milestones"] = clean_milestones(actor.workspace, data.get("milestones"))
    return clean


@transaction.atomic
def create_template(actor: Actor, data: dict) -> ProjectTemplate:
    """A template from ``name``, ``description`` and ``milestones``; admins only."""
    actor.require(ADMIN)
    values = _template_fields(actor, data, None)
    now = timezone.now()
    return ProjectTemplate.objects.create(
        workspace=actor.workspace, created_at=now, updated_at=now, **values
    )


@transaction.atomic
def update_template(actor: Actor, template: ProjectTemplate, data: dict) -> ProjectTemplate:
    """Change the fields present in ``data``; projects already started keep their plan."""
    actor.require(ADMIN)
    values = _template_fields(actor, data, template)
    for name, value in values.items():
        setattr(template, name, value)
    template.updated_at = timezone.now()
    template.save()
    return template


@transaction.atomic
def delete_template(actor: Actor, template: ProjectTemplate) -> None:
    """Projects started from it stay, with their tasks; they just no longer name it."""
    actor.require(ADMIN)
    template.delete()


# --- starting a project ------------------------------------------------------------------------


def _usable(member: Member | None) -> bool:
    return member is not None and member.is_active and member.seat != Seat.VIEWER


def _start_date(workspace, value) -> datetime.date:
    if value is None:
        return local_today(workspace)
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise InvalidInput("start_date", "must be a date (YYYY-MM-DD)")
    return value


def _insert(
    account: Account,
    template: ProjectTemplate,
    *,
    start_date: datetime.date,
    name: str,
    fallback: Member | None,
    created_by: Member | None,
    play_id: int | None,
    source: str,
    key: str,
) -> tuple[Project, bool]:
    workspace = account.workspace
    if key:
        existing = Project.objects.filter(workspace=workspace, key=key).first()
        if existing is not None:
            return existing, False
    if template.workspace_id != workspace.pk:
        raise InvalidInput("template_id", "is not a template of this workspace")
    plan = template.milestones
    roles = {t["role"] for m in plan for t in m["tasks"] if t.get("role")}
    holders = {
        a.role.key: a.member
        for a in Assignment.objects.filter(account=account, role__key__in=roles).select_related(
            "member__user", "role"
        )
    }
    fallback = fallback if _usable(fallback) else None
    now = timezone.now()
    try:
        with transaction.atomic():  # a concurrent twin with the same key wins; see below
            project = Project.objects.create(
                workspace=workspace,
                account=account,
                template=template,
                name=name or template.name,
                start_date=start_date,
                expected_go_live=start_date + datetime.timedelta(days=template.duration_days),
                created_by=created_by,
                play_id=play_id,
                source=source[:SOURCE_MAX],
                key=key,
                created_at=now,
            )
    except IntegrityError:
        if not key:
            raise
        return Project.objects.get(workspace=workspace, key=key), False
    tasks = []
    for position, step in enumerate(plan):
        milestone = ProjectMilestone.objects.create(
            workspace=workspace,
            project=project,
            name=step["name"],
            position=position,
            due_date=start_date
            + datetime.timedelta(days=max(t["offset_days"] for t in step["tasks"])),
        )
        for task in step["tasks"]:
            holder = holders.get(task.get("role") or "")
            tasks.append(
                Task(
                    workspace=workspace,
                    account=account,
                    project=project,
                    milestone=milestone,
                    title=task["title"],
                    description=task.get("description", ""),
                    type=task.get("type") or TaskType.OTHER,
                    due_date=start_date + datetime.timedelta(days=task["offset_days"]),
                    assignee=holder if _usable(holder) else fallback,
                    created_by=created_by,
                    play_id=play_id,
                    source=f"Project: {project.name}"[:SOURCE_MAX],
                    created_at=now,
                    updated_at=now,
                )
            )
    Task.objects.bulk_create(tasks)
    return project, True


@transaction.atomic
def start_project(
    actor: Actor, account: Account, template: ProjectTemplate, data: dict | None = None
) -> Project:
    """Start ``template`` on ``account`` for a person or token (a contributor's right).
    ``data``: ``start_date`` (default today in the workspace's time zone), ``name``
    (default the template's), ``fallback`` (who gets tasks whose role nobody holds; default
    whoever starts it)."""
    actor.require(CONTRIBUTE)
    data = data or {}
    if account is None or account.workspace_id != actor.workspace.pk:
        raise InvalidInput("account_id", "is not an account of this workspace")
    if template is None or template.workspace_id != actor.workspace.pk:
        raise InvalidInput("template_id", "is not a template of this workspace")
    fallback = data.get(
        "fallback", actor.member or (actor.token.created_by if actor.token else None)
    )
    if fallback is not None and (
        fallback.workspace_id != actor.workspace.pk or not _usable(fallback)
    ):
        raise InvalidInput("fallback_assignee", "must be an active member who can work on tasks")
    project, _created = _insert(
        account,
        template,
        start_date=_start_date(actor.workspace, data.get("start_date")),
        name=_text("name", data.get("name"), PROJECT_NAME_MAX),
        fallback=fallback,
        created_by=actor.member,
        play_id=None,
        source=f"API token {actor.token.name}" if actor.token is not None else "",
        key="",
    )
    return project


@transaction.atomic
def start_account_project(
    account: Account,
    template: ProjectTemplate,
    *,
    start_date: datetime.date,
    fallback: Member | None = None,
    play_id: int | None = None,
    source: str = "",
    key: str = "",
) -> tuple[Project, bool]:
    """A project started by automation (a play step). With a ``key`` already used in the
    workspace, returns that project and ``False``."""
    return _insert(
        account,
        template,
        start_date=start_date,
        name="",
        fallback=fallback,
        created_by=None,
        play_id=play_id,
        source=source,
        key=_text("key", key, KEY_MAX),
    )


# --- changing a project ------------------------------------------------------------------------
# Writers change any project, a contributor one they started (``can_manage_project``).


@transaction.atomic
def rename_project(actor: Actor, project: Project, name) -> Project:
    """A new name for the project. Its tasks keep their ``source`` label: it tells how they
    were made, under the name the project had then."""
    require_manage_project(actor, project)
    name = _text("name", name, PROJECT_NAME_MAX)
    if not name:
        raise InvalidInput("name", "is required")
    Project.objects.filter(pk=project.pk).update(name=name)
    project.name = name
    return project


@transaction.atomic
def cancel_project(actor: Actor, project: Project) -> int:
    """Cancel the project: its open tasks are cancelled (done ones stay done) and it leaves
    the active lists; the project and its history stay. Returns how many tasks were
    cancelled. Cancelling a cancelled project is refused, naming ``status``."""
    require_manage_project(actor, project)
    # Locked and read again: two cancels at once cancel once.
    current = Project.objects.select_for_update().get(pk=project.pk)
    if current.cancelled_at is not None:
        raise InvalidInput("status", "the project is already cancelled")
    now = timezone.now()
    count = Task.objects.filter(project=project, status=TaskStatus.OPEN).update(
        status=TaskStatus.CANCELLED,
        completed_at=now,
        completed_by=actor.member,
        updated_at=now,
    )
    Project.objects.filter(pk=project.pk).update(cancelled_at=now, cancelled_by=actor.member)
    project.cancelled_at, project.cancelled_by = now, actor.member
    return count


@transaction.atomic
def delete_project(actor: Actor, project: Project) -> None:
    """Delete the project with its milestones and tasks (done ones too): for a project
    started by mistake. Cancel keeps the record."""
    require_manage_project(actor, project)
    Task.objects.filter(project=project).delete()
    Project.objects.filter(pk=project.pk).delete()
