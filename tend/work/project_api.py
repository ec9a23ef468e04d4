"""``/project-templates``: list, read, create, change and delete templates (writes: admins,
tokens with the admin scope); ``/projects``: list (by account), start one from a template,
read one with its milestones, tasks and progress, rename it, cancel it, delete it.

Lists are paged by cursor; every 4xx answer names the field at fault.
"""

import datetime
from typing import Literal

from django.db.models import Count, Q
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tend.lib.api_schemas import ERRORS, PageFilters, Strict
from tend.lib.cursor import encode_cursor, id_cursor
from tend.lib.errors import InvalidInput
from tend.work import actions
from tend.work.api import PersonOut, TaskAccountOut, TypeName, _account, _member, _person
from tend.work.models import Project, ProjectMilestone, ProjectTemplate
from tend.work.queries import (
    get_project,
    get_template,
    local_today,
    project_summary,
    project_tasks,
)
from tend.workspaces.access import CONTRIBUTE, READ, Actor

router = Router(tags=["projects"])


class TemplateTaskIn(Strict):
    title: str = Field(..., min_length=1, max_length=actions.TITLE_MAX)
    offset_days: int = Field(
        ..., ge=0, le=actions.OFFSET_MAX, description="Due this many days after the start."
    )
    role: str = Field(
        "", max_length=63, description="An assignment role key; empty: the fallback member."
    )
    description: str = Field("", max_length=actions.DESCRIPTION_MAX, description="Markdown.")
    type: TypeName = "other"


class MilestoneIn(Strict):
    name: str = Field(..., min_length=1, max_length=120)
    tasks: list[TemplateTaskIn] = Field(..., min_length=1)


class TemplateIn(Strict):
    name: str = Field(..., min_length=1, max_length=actions.TEMPLATE_NAME_MAX)
    description: str = Field("", max_length=actions.DESCRIPTION_MAX)
    milestones: list[MilestoneIn] = Field(..., min_length=1, max_length=actions.MILESTONES_MAX)


class TemplatePatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=actions.TEMPLATE_NAME_MAX)
    description: str | None = Field(None, max_length=actions.DESCRIPTION_MAX)
    milestones: list[MilestoneIn] | None = Field(
        None, min_length=1, max_length=actions.MILESTONES_MAX
    )


class TemplateTaskOut(Schema):
    title: str
    offset_days: int
    role: str
    description: str
    type: str


class MilestoneTemplateOut(Schema):
    name: str
    tasks: list[TemplateTaskOut]


class TemplateOut(Schema):
    id: int
    name: str
    description: str
    duration_days: int = Field(
        ..., description="The last task's offset: start + this = expected go-live."
    )
    milestones: list[MilestoneTemplateOut]
    created_at: datetime.datetime
    updated_at: datetime.datetime


class TemplatePage(Schema):
    items: list[TemplateOut]
    next_cursor: str | None


class ProjectFilters(PageFilters):
    account_id: int | None = None
    account_external_id: str | None = None
    status: Literal["active", "completed", "cancelled"] | None = None


class ProjectPatch(Strict):
    # Optional in the schema so that another workspace's project is 404 before any 422.
    name: str | None = Field(None, min_length=1, max_length=200)


class ProjectIn(Strict):
    account_id: int | None = Field(None, description="The account's Tend id …")
    account_external_id: str | None = Field(None, description="… or its external id.")
    template_id: int
    start_date: datetime.date | None = Field(
        None, description="Default: today in the workspace's time zone."
    )
    name: str = Field("", max_length=200, description="Default: the template's name.")
    fallback_assignee: int | str | None = Field(
        None,
        description="Member id or email who gets tasks whose role nobody holds; default: whoever starts it.",
    )


class ProjectTaskOut(Schema):
    id: int
    title: str
    due_date: datetime.date
    status: str
    assignee: PersonOut | None
    overdue: bool
    completed_at: datetime.datetime | None


class MilestoneOut(Schema):
    id: int
    name: str
    due_date: datetime.date
    done: int
    total: int
    tasks: list[ProjectTaskOut]


class ProjectOut(Schema):
    id: int
    name: str
    account: TaskAccountOut
    template_id: int | None
    status: Literal["active", "completed", "cancelled"]
    start_date: datetime.date
    expected_go_live: datetime.date
    actual_go_live: datetime.date | None = Field(
        ..., description="The day the last task was done, once none is open."
    )
    done: int
    total: int = Field(..., description="Tasks not cancelled.")
    overdue: int
    play_id: int | None
    source: str
    created_at: datetime.datetime
    cancelled_at: datetime.datetime | None


class ProjectDetailOut(ProjectOut):
    milestones: list[MilestoneOut]


class ProjectPage(Schema):
    items: list[ProjectOut]
    next_cursor: str | None


def template_out(template: ProjectTemplate) -> dict:
    return {
        "id": template.pk,
        "name": template.name,
        "description": template.description,
        "duration_days": template.duration_days,
        "milestones": template.milestones,
        "created_at": template.created_at,
        "updated_at": template.updated_at,
    }


def project_out(project: Project, actor: Actor, overdue: int | None = None, summary=None) -> dict:
    summary = summary or project_summary(project, actor.workspace)
    account = project.account
    return {
        "id": project.pk,
        "name": project.name,
        "account": {"id": account.pk, "external_id": account.external_id, "name": account.name},
        "template_id": project.template_id,
        "status": summary["status"],
        "start_date": project.start_date,
        "expected_go_live": project.expected_go_live,
        "actual_go_live": summary["actual_go_live"],
        "done": summary["done"],
        "total": summary["total"],
        "overdue": overdue if overdue is not None else len(summary["overdue"]),
        "play_id": project.play_id,
        "source": project.source,
        "created_at": project.created_at,
        "cancelled_at": project.cancelled_at,
    }


def project_detail(actor: Actor, pk: int) -> dict:
    project = get_project(actor, pk)
    tasks = list(project_tasks(project))
    summary = project_summary(project, actor.workspace, tasks)
    overdue_ids = {t.pk for t in summary["overdue"]}
    by_milestone: dict[int | None, list] = {}
    for task in tasks:
        by_milestone.setdefault(task.milestone_id, []).append(task)
    milestones = []
    for m in ProjectMilestone.objects.filter(project=project):
        mine = by_milestone.get(m.pk, [])
        milestones.append(
            {
                "id": m.pk,
                "name": m.name,
                "due_date": m.due_date,
                "done": sum(t.status == "done" for t in mine),
                "total": sum(t.status != "cancelled" for t in mine),
                "tasks": [
                    {
                        "id": t.pk,
                        "title": t.title,
                        "due_date": t.due_date,
                        "status": t.status,
                        "assignee": _person(t.assignee),
                        "overdue": t.pk in overdue_ids,
                        "completed_at": t.completed_at,
                    }
                    for t in mine
                ],
            }
        )
    return {**project_out(project, actor, summary=summary), "milestones": milestones}


# --- templates ---------------------------------------------------------------------------------


@router.get(
    "/project-templates", response={200: TemplatePage, **ERRORS}, summary="List project templates"
)
def list_templates(request, filters: Query[PageFilters]):
    actor = request.auth
    actor.require(READ)
    rows = ProjectTemplate.objects.filter(workspace=actor.workspace)
    after = id_cursor(filters.cursor)
    if after is not None:
        rows = rows.filter(id__gt=after)
    page = list(rows.order_by("id")[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    return {
        "items": [template_out(t) for t in page],
        "next_cursor": encode_cursor({"id": page[-1].pk}) if more else None,
    }


@router.get(
    "/project-templates/{int:id}",
    response={200: TemplateOut, **ERRORS},
    summary="Get a project template",
)
def get_one_template(request, id: int):
    return template_out(get_template(request.auth, id))


@router.post(
    "/project-templates",
    response={201: TemplateOut, **ERRORS},
    summary="Create a project template",
    description="Admins only (a token with the admin scope).",
)
def post_template(request, payload: TemplateIn):
    template = actions.create_template(request.auth, payload.dict())
    return Status(201, template_out(template))


@router.patch(
    "/project-templates/{int:id}",
    response={200: TemplateOut, **ERRORS},
    summary="Change a project template",
    description="Admins only. Projects already started keep their dates and tasks.",
)
def patch_template(request, id: int, payload: TemplatePatch):
    actor = request.auth
    template = get_template(actor, id)
    changes = payload.dict(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise InvalidInput(name, "must not be null")
    return template_out(actions.update_template(actor, template, changes))


@router.delete(
    "/project-templates/{int:id}",
    response={204: None, **ERRORS},
    summary="Delete a project template",
)
def remove_template(request, id: int):
    actor = request.auth
    actions.delete_template(actor, get_template(actor, id))
    return Status(204, None)


# --- projects ----------------------------------------------------------------------------------


@router.get("/projects", response={200: ProjectPage, **ERRORS}, summary="List projects")
def list_projects(request, filters: Query[ProjectFilters]):
    """Projects of the workspace by id, filtered by account and status."""
    actor = request.auth
    actor.require(READ)
    rows = (
        Project.objects.filter(workspace=actor.workspace).with_progress().select_related("account")
    )
    if filters.account_id is not None:
        rows = rows.filter(account_id=filters.account_id)
    if filters.account_external_id is not None:
        rows = rows.filter(account__external_id=filters.account_external_id)
    if filters.status == "active":
        rows = rows.active()
    elif filters.status == "completed":
        rows = rows.filter(open_count=0, cancelled_at=None)
    elif filters.status == "cancelled":
        rows = rows.exclude(cancelled_at=None)
    today = local_today(actor.workspace)
    rows = rows.annotate(
        overdue_count=Count("tasks", filter=Q(tasks__status="open", tasks__due_date__lt=today))
    )
    after = id_cursor(filters.cursor)
    if after is not None:
        rows = rows.filter(id__gt=after)
    page = list(rows.order_by("id")[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    return {
        "items": [project_out(p, actor, overdue=p.overdue_count) for p in page],
        "next_cursor": encode_cursor({"id": page[-1].pk}) if more else None,
    }


@router.get(
    "/projects/{int:id}", response={200: ProjectDetailOut, **ERRORS}, summary="Get a project"
)
def get_one_project(request, id: int):
    return project_detail(request.auth, id)


@router.post(
    "/projects",
    response={201: ProjectDetailOut, **ERRORS},
    summary="Start a project from a template",
    description=(
        "Name the account by `account_id` or `account_external_id`. Any seat but viewer (a "
        "token with the write scope). Each task is due `start_date + offset_days` and goes to "
        "the member holding its role on the account, else to `fallback_assignee`."
    ),
)
def post_project(request, payload: ProjectIn):
    actor = request.auth
    actor.require(CONTRIBUTE)
    data = payload.dict(exclude_unset=True)
    account = _account(actor, data.pop("account_id", None), data.pop("account_external_id", None))
    template = ProjectTemplate.objects.filter(
        workspace=actor.workspace, pk=data.pop("template_id")
    ).first()
    if template is None:
        raise InvalidInput("template_id", "no such template in this workspace")
    if "fallback_assignee" in data:
        data["fallback"] = _member(actor, data.pop("fallback_assignee"), "fallback_assignee")
    project = actions.start_project(actor, account, template, data)
    return Status(201, project_detail(actor, project.pk))


@router.patch(
    "/projects/{int:id}",
    response={200: ProjectDetailOut, **ERRORS},
    summary="Rename a project",
    description="Writers rename any project, a contributor one they started.",
)
def patch_project(request, id: int, payload: ProjectPatch):
    actor = request.auth
    project = get_project(actor, id)
    if payload.name is None:
        raise InvalidInput("name", "is required")
    actions.rename_project(actor, project, payload.name)
    return project_detail(actor, project.pk)


@router.post(
    "/projects/{int:id}/cancel",
    response={200: ProjectDetailOut, **ERRORS},
    summary="Cancel a project",
    description=(
        "Its open tasks are cancelled, done ones stay; the project is kept with status "
        "`cancelled`. Writers cancel any project, a contributor one they started. A second "
        "cancel is 422 naming `status`."
    ),
)
def cancel_one_project(request, id: int):
    actor = request.auth
    project = get_project(actor, id)
    actions.cancel_project(actor, project)
    return project_detail(actor, project.pk)


@router.delete(
    "/projects/{int:id}",
    response={204: None, **ERRORS},
    summary="Delete a project",
    description="With its milestones and tasks. Writers delete any project, a contributor one they started.",
)
def remove_project(request, id: int):
    actor = request.auth
    actions.delete_project(actor, get_project(actor, id))
    return Status(204, None)
