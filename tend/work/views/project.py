"""Projects: a project's page (milestones, progress, overdue tasks, expected and actual
go-live), starting one on an account, the Projects panel of the account profile, and the
admins' template pages (list, editor with a plain-text outline, delete)."""

import datetime

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.accounts.models import Account, Assignment, AssignmentRole
from tend.accounts.views.accounts.common import member_required
from tend.lib.errors import InvalidInput
from tend.work import actions, outline
from tend.work.models import Project, ProjectMilestone, ProjectTemplate, Task, TaskStatus, TaskType
from tend.work.queries import (
    assigned_account_ids,
    can_change,
    can_manage_project,
    get_project,
    get_template,
    local_today,
    project_summary,
    project_tasks,
)
from tend.workspaces.access import ADMIN, CONTRIBUTE, WRITE

PANEL_SIZE = 5
HOME_SIZE = 8
# "Soon" for Home's Projects due: expected go-live within this many days.
DUE_SOON_DAYS = 14


@member_required
@require_GET
def project_detail(request, project_id: int):
    return _detail(request, project_id)


def _detail(request, project_id: int, rename: dict | None = None, status: int = 200):
    """The project page; ``rename`` ({"name", "error"}) reopens the rename form with what
    was typed and why it was refused."""
    actor = request.actor
    project = get_project(actor, project_id)
    tasks = list(project_tasks(project))
    summary = project_summary(project, actor.workspace, tasks)
    assigned = (
        set() if actor.can(WRITE) else assigned_account_ids(actor.member, {project.account_id})
    )
    by_milestone: dict[int | None, list] = {}
    for task in tasks:
        by_milestone.setdefault(task.milestone_id, []).append(
            {"task": task, "can_change": can_change(actor, task, assigned)}
        )
    milestones = []
    for m in ProjectMilestone.objects.filter(project=project):
        rows = by_milestone.get(m.pk, [])
        total = sum(r["task"].status != "cancelled" for r in rows)
        done = sum(r["task"].status == "done" for r in rows)
        milestones.append(
            {
                "milestone": m,
                "rows": rows,
                "done": done,
                "total": total,
                "complete": total and done == total,
            }
        )
    go_live = summary["actual_go_live"]
    return render(
        request,
        "work/project_detail.html",
        {
            "project": project,
            "summary": summary,
            "milestones": milestones,
            "today": summary["today"],
            "duration_days": (project.expected_go_live - project.start_date).days,
            "can_manage": can_manage_project(actor, project),
            "rename": rename,
            "late_days": (go_live - project.expected_go_live).days if go_live else None,
            "behind_days": (summary["today"] - project.expected_go_live).days
            if not go_live
            and summary["status"] == "active"
            and summary["today"] > project.expected_go_live
            else None,
        },
        status=status,
    )


@member_required
@require_POST
def project_rename(request, project_id: int):
    actor = request.actor
    project = get_project(actor, project_id)
    name = request.POST.get("name", "")
    try:
        actions.rename_project(actor, project, name)
    except InvalidInput as exc:
        return _detail(request, project.pk, {"name": name, "error": exc}, status=422)
    messages.success(request, f"Renamed to “{project.name}”.")
    return redirect("projects:detail", project.pk)


@member_required
@require_POST
def project_cancel(request, project_id: int):
    actor = request.actor
    project = get_project(actor, project_id)
    try:
        count = actions.cancel_project(actor, project)
    except InvalidInput as exc:
        messages.error(request, f"The project was not cancelled: {exc.message}.")
        return redirect("projects:detail", project.pk)
    messages.success(
        request, f"Cancelled “{project.name}” and its {count} open task{'s' if count != 1 else ''}."
    )
    return redirect("projects:detail", project.pk)


@member_required
@require_POST
def project_delete(request, project_id: int):
    actor = request.actor
    project = get_project(actor, project_id)
    account_id = project.account_id
    actions.delete_project(actor, project)
    messages.success(request, f"Deleted “{project.name}” and its tasks.")
    return redirect(reverse("accounts:profile", args=[account_id]) + "#projects")


@member_required
@require_POST
def project_start(request):
    actor = request.actor
    actor.require(CONTRIBUTE)
    workspace = actor.workspace
    try:
        account = Account.objects.get(workspace=workspace, pk=int(request.POST.get("account", "")))
    except (Account.DoesNotExist, ValueError):
        account = None
    here = (
        reverse("accounts:profile", args=[account.pk]) if account else reverse("projects:templates")
    )
    try:
        if account is None:
            raise InvalidInput("account", "is not an account of this workspace")
        template = (
            ProjectTemplate.objects.filter(
                workspace=workspace, pk=request.POST.get("template") or 0
            ).first()
            if (request.POST.get("template") or "").isdigit()
            else None
        )
        if template is None:
            raise InvalidInput("template", "choose a template")
        data = {}
        if request.POST.get("start_date"):
            try:
                data["start_date"] = datetime.date.fromisoformat(request.POST["start_date"])
            except ValueError as exc:
                raise InvalidInput("start_date", "must be a date (YYYY-MM-DD)") from exc
        project = actions.start_project(actor, account, template, data)
    except InvalidInput as exc:
        messages.error(
            request, f"The project was not started: {exc.field.replace('_', ' ')} {exc.message}."
        )
        return redirect(f"{here}#projects")
    messages.success(request, f"Started “{project.name}” with {project.tasks.count()} tasks.")
    return redirect("projects:detail", project.pk)


def projects_panel(request, account) -> dict:
    """The account profile's Projects panel: active projects with progress, and a form to
    start one from a template."""
    actor = request.actor
    rows = list(
        Project.objects.filter(workspace=actor.workspace, account=account)
        .with_progress()
        .active()
        .order_by("-created_at", "-id")[: PANEL_SIZE + 1]
    )
    can_start = actor.can(CONTRIBUTE)
    return {
        "items": [
            {
                "project": p,
                "percent": round(100 * p.done / p.total) if p.total else 0,
            }
            for p in rows[:PANEL_SIZE]
        ],
        "more": len(rows) > PANEL_SIZE,
        "today": local_today(actor.workspace),
        "can_start": can_start,
        "templates": list(
            ProjectTemplate.objects.filter(workspace=actor.workspace).only("id", "name")
        )
        if can_start
        else [],
    }


def projects_due(request, now) -> dict:
    """Home's "Projects due" card: the active projects that are the member's — started by
    them, on an account assigned to them, or with an open task of theirs — whose expected
    go-live is within ``DUE_SOON_DAYS`` (or past), or that have overdue tasks. Soonest
    go-live first; one query for the rows, one for the count."""
    actor = request.actor
    member = actor.member
    today = local_today(actor.workspace, now)
    mine = (
        Q(created_by=member)
        | Q(account_id__in=Assignment.objects.filter(member=member).values("account_id"))
        | Q(
            pk__in=Task.objects.filter(
                workspace=actor.workspace, assignee=member, status=TaskStatus.OPEN
            )
            .exclude(project=None)
            .values("project_id")
        )
    )
    rows = (
        Project.objects.filter(workspace=actor.workspace)
        .filter(mine)
        .with_progress()
        .active()
        .annotate(
            overdue_count=Count(
                "tasks", filter=Q(tasks__status=TaskStatus.OPEN, tasks__due_date__lt=today)
            )
        )
        .filter(
            Q(expected_go_live__lte=today + datetime.timedelta(days=DUE_SOON_DAYS))
            | Q(overdue_count__gt=0)
        )
        .select_related("account")
        .order_by("expected_go_live", "id")
    )
    page = list(rows[: HOME_SIZE + 1])
    items = []
    for p in page[:HOME_SIZE]:
        days = (p.expected_go_live - today).days
        items.append(
            {
                "project": p,
                "percent": round(100 * p.done / p.total) if p.total else 0,
                "overdue": p.overdue_count,
                "days": days,
                "late": days < 0,
                "late_days": -days,
            }
        )
    return {
        "items": items,
        "more": rows.count() - HOME_SIZE if len(page) > HOME_SIZE else 0,
        "soon_days": DUE_SOON_DAYS,
    }


# --- templates ---------------------------------------------------------------------------------


@member_required
@require_GET
def template_list(request):
    actor = request.actor
    templates = list(
        ProjectTemplate.objects.filter(workspace=actor.workspace).order_by("name", "id")
    )
    return render(
        request,
        "work/project_templates.html",
        {"templates": templates, "can_edit": actor.can(ADMIN)},
    )


def _editor(request, template, form: dict, error: InvalidInput | None = None, status: int = 200):
    return render(
        request,
        "work/project_template_form.html",
        {
            "template": template,
            "form": form,
            "error": error,
            "roles": list(AssignmentRole.objects.filter(workspace=request.actor.workspace)),
            "types": TaskType.choices,
            "preview": _preview(form.get("outline", "")),
            "can_edit": request.actor.can(ADMIN),
        },
        status=status,
    )


def _preview(text: str) -> list[dict]:
    try:
        milestones, _ = outline.parse(text)
    except InvalidInput:
        return []
    return milestones


@member_required
@require_http_methods(["GET", "POST"])
def template_edit(request, template_id: int | None = None):
    actor = request.actor
    template = get_template(actor, template_id) if template_id is not None else None
    if request.method == "POST" or template is None:
        actor.require(ADMIN)
    if request.method == "GET":
        form = (
            {
                "name": template.name,
                "description": template.description,
                "outline": outline.render(template.milestones),
            }
            if template
            else {
                "name": "",
                "description": "",
                "outline": "# Kickoff\n+0 @success_manager [meeting] Kickoff call\n",
            }
        )
        return _editor(request, template, form)
    form = {k: request.POST.get(k, "") for k in ("name", "description", "outline")}
    try:
        milestones, lines = outline.parse(form["outline"])
        data = {"name": form["name"], "description": form["description"], "milestones": milestones}
        try:
            if template is None:
                saved = actions.create_template(actor, data)
            else:
                saved = actions.update_template(actor, template, data)
        except InvalidInput as exc:
            raise outline.located(exc, lines) from exc
    except InvalidInput as exc:
        if template is not None:
            template.refresh_from_db()
        return _editor(request, template, form, exc, status=422)
    messages.success(request, f"Saved “{saved.name}”.")
    return redirect("projects:templates")


@member_required
@require_POST
def template_delete(request, template_id: int):
    actor = request.actor
    template = get_template(actor, template_id)
    actions.delete_template(actor, template)
    messages.success(
        request, f"Deleted “{template.name}”. Projects started from it keep their tasks."
    )
    return redirect("projects:templates")
