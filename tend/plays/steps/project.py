"""Start a project on the account (tend.work) from one of the workspace's templates: its
tasks due ``start + offset`` (the start is the workspace's today plus ``start_in_days``),
each owned by the member holding the task's role on the account, else the fallback member.

The project's key is the step run's key, so a re-run hands back the project it already
started (``start_account_project`` returns the first project for a key): one project per
run.
"""

import datetime

from pydantic import Field

from tend.lib.errors import InvalidInput
from tend.plays.steps import register
from tend.plays.steps.base import Done, Fail, StepConfig, StepKind
from tend.work.actions import start_account_project
from tend.work.models import Project, ProjectTemplate
from tend.work.queries import local_today
from tend.workspaces.models import Member


class StartProjectConfig(StepConfig):
    template_id: int = Field(..., description="The project template to start.")
    start_in_days: int = Field(0, ge=0, le=365, description="Start this many days after today.")
    fallback_member_id: int | None = Field(
        None, description="Who gets the tasks whose role nobody holds on the account."
    )


def _template(workspace, pk: int) -> ProjectTemplate | None:
    return ProjectTemplate.objects.filter(workspace=workspace, pk=pk).first()


def _fallback(workspace, pk: int | None) -> Member | None:
    if pk is None:
        return None
    return Member.objects.filter(workspace=workspace, pk=pk, is_active=True).select_related("user").first()


def _already(project: Project) -> Done:
    return Done(
        f"Project {project.name!r} was already started (project {project.pk}).",
        {"project_id": project.pk, "created": False},
    )


@register
class StartProject(StepKind):
    kind = "start_project"
    label = "Start a project"
    Config = StartProjectConfig
    local = True
    changes_account = False

    def check(self, config, workspace) -> None:
        if _template(workspace, config.template_id) is None:
            raise InvalidInput("template_id", f"no project template with id {config.template_id}")
        pk = config.fallback_member_id
        if pk is not None and _fallback(workspace, pk) is None:
            raise InvalidInput("fallback_member_id", f"no active member with id {pk} in this workspace")

    def _start(self, config, ctx) -> datetime.date:
        return local_today(ctx.workspace, ctx.now) + datetime.timedelta(days=config.start_in_days)

    def describe(self, config, ctx) -> dict:
        template = _template(ctx.workspace, config.template_id)
        if template is None:
            return {"summary": f"Would fail: project template {config.template_id} is gone."}
        start = self._start(config, ctx)
        return {
            "summary": (
                f"Start project {template.name!r} ({template.task_count} tasks), "
                f"from {start:%Y-%m-%d}, go-live expected "
                f"{start + datetime.timedelta(days=template.duration_days):%Y-%m-%d}."
            ),
            "template_id": template.pk,
            "start_date": start.isoformat(),
        }

    def run(self, ctx):
        config = ctx.config
        existing = Project.objects.filter(workspace=ctx.workspace, key=ctx.key).first()
        if existing is not None:
            return _already(existing)
        template = _template(ctx.workspace, config.template_id)
        if template is None:
            return Fail(f"project template {config.template_id} is gone")
        try:
            project, created = start_account_project(
                ctx.account,
                template,
                start_date=self._start(config, ctx),
                fallback=_fallback(ctx.workspace, config.fallback_member_id),
                play_id=ctx.play.pk if ctx.play else None,
                source=f"Play: {ctx.play.name}" if ctx.play else "",
                key=ctx.key,
            )
        except InvalidInput as exc:
            return Fail(f"the project could not be started: {exc}")
        if not created:
            return _already(project)
        return Done(
            f"Started project {project.name!r} (project {project.pk}), go-live expected "
            f"{project.expected_go_live:%Y-%m-%d}.",
            {"project_id": project.pk, "created": True},
        )
