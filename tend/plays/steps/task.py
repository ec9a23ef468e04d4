"""Create a task on the account (tend.work): title and Markdown description templates over
the account's plain data, a type, a priority, due in N days (the workspace's today), and an
assignee — the member holding an assignment role on the account, a named member, or round
robin among a team's active members.

The task's key is the step run's key, so a re-run hands back the task it already made
(``create_account_task`` returns the first task for a key). Round robin counts the tasks
this step of this play has made so far and takes the next member in the team (ordered by
id); a re-run may pick another member, but the key hands back the task already made.
"""

import datetime

from pydantic import Field, model_validator

from tend.accounts.models import Assignment
from tend.lib.errors import InvalidInput
from tend.outbox.rendering import TemplateError
from tend.plays.steps import register
from tend.plays.steps.base import Done, Fail, StepConfig, StepKind
from tend.plays.steps.messaging import (
    check_role,
    check_templates,
    prime_account_data,
    render,
    template_context,
    template_failure,
)
from tend.work.actions import TITLE_MAX, create_account_task, create_account_tasks
from tend.work.models import Priority, Task, TaskType
from tend.work.queries import local_today
from tend.workspaces.models import Member, Team


class CreateTaskConfig(StepConfig):
    title: str = Field(..., min_length=1, max_length=500, description="Title template.")
    description: str = Field("", max_length=20_000, description="Markdown description template.")
    type: TaskType = Field(TaskType.OTHER, description="call, email, meeting, follow_up, …")
    priority: Priority = Field(Priority.NORMAL, description="low, normal, high or urgent.")
    due_in_days: int = Field(0, ge=0, le=365, description="Due this many days after today.")
    assignee_role: str | None = Field(
        None, max_length=63, description="Assign to the member holding this role on the account."
    )
    assignee_member_id: int | None = Field(None, description="Or: assign to this member.")
    assignee_team_id: int | None = Field(
        None, description="Or: round robin among this team's active members."
    )
    fallback_member_id: int | None = Field(
        None, description="With assignee_role: who gets it when nobody holds the role."
    )

    @model_validator(mode="after")
    def _one_assignee(self):
        given = [self.assignee_role, self.assignee_member_id, self.assignee_team_id]
        if sum(v is not None for v in given) != 1:
            raise ValueError(
                "give exactly one of assignee_role, assignee_member_id, assignee_team_id"
            )
        if self.fallback_member_id is not None and self.assignee_role is None:
            raise ValueError("fallback_member_id goes with assignee_role")
        return self


def _member(workspace, pk: int | None) -> Member | None:
    if pk is None:
        return None
    return (
        Member.objects.filter(workspace=workspace, pk=pk, is_active=True)
        .select_related("user")
        .first()
    )


def _team_members(workspace, team_id: int) -> list[Member]:
    return list(
        Member.objects.filter(workspace=workspace, teams__pk=team_id, is_active=True)
        .select_related("user")
        .order_by("pk")
    )


def step_tasks(play_id: int | None, position: int):
    """The tasks this step of this play has made (their keys end in the step's position)."""
    return Task.objects.filter(play_id=play_id, key__endswith=f":step:{position}")


def assignee_for(config: CreateTaskConfig, ctx) -> tuple[Member | None, str]:
    """``(member, how)``, or ``(None, why not)`` when nobody can take the task."""
    workspace = ctx.workspace
    if config.assignee_role:
        held = (
            Assignment.objects.filter(account=ctx.account, role__key=config.assignee_role)
            .select_related("member__user", "role")
            .first()
        )
        if held is not None and held.member.is_active:
            return held.member, f"{held.role.name} of the account"
        fallback = _member(workspace, config.fallback_member_id)
        if fallback is not None:
            return fallback, f"fallback: nobody holds {config.assignee_role} on the account"
        return None, f"no active member holds {config.assignee_role} on the account"
    if config.assignee_member_id is not None:
        member = _member(workspace, config.assignee_member_id)
        if member is None:
            return None, f"member {config.assignee_member_id} is gone or inactive"
        return member, "named member"
    members = _team_members(workspace, config.assignee_team_id)
    if not members:
        return None, f"team {config.assignee_team_id} has no active member"
    play = getattr(ctx, "play", None)
    made = step_tasks(play.pk if play else None, getattr(ctx, "position", 0)).count()
    return members[made % len(members)], f"round robin, {made % len(members) + 1} of {len(members)}"


def _rendered(config: CreateTaskConfig, ctx) -> tuple[str, str]:
    context = template_context(ctx)
    title = " ".join(render(config.title, context, "title").split())
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1] + "…"
    if not title:
        raise TemplateError("title", "renders empty")
    description = render(config.description, context, "description").strip()
    return title, description


def _already(task: Task) -> Done:
    return Done(
        f"Task {task.title!r} was already created (task {task.pk}).",
        {"task_id": task.pk, "created": False},
    )


@register
class CreateTask(StepKind):
    kind = "create_task"
    label = "Create a task"
    Config = CreateTaskConfig
    local = True
    changes_account = False

    def check(self, config, workspace) -> None:
        if config.assignee_role:
            check_role(workspace, config.assignee_role, "assignee_role")
        for field in ("assignee_member_id", "fallback_member_id"):
            pk = getattr(config, field)
            if pk is not None and _member(workspace, pk) is None:
                raise InvalidInput(field, f"no active member with id {pk} in this workspace")
        team_id = config.assignee_team_id
        if (
            team_id is not None
            and not Team.objects.filter(workspace=workspace, pk=team_id).exists()
        ):
            raise InvalidInput("assignee_team_id", f"no team with id {config.assignee_team_id}")
        check_templates(title=config.title, description=config.description)

    def _due(self, config, ctx) -> datetime.date:
        return local_today(ctx.workspace, ctx.now) + datetime.timedelta(days=config.due_in_days)

    def describe(self, config, ctx) -> dict:
        try:
            title, description = _rendered(config, ctx)
        except TemplateError as exc:
            return {"summary": f"Would fail: {template_failure(exc).reason}"}
        member, how = assignee_for(config, ctx)
        if member is None:
            return {"summary": f"Would fail: {how}.", "title": title}
        due = self._due(config, ctx)
        return {
            "summary": f"Create task {title!r} for {member.name} ({how}), due {due:%Y-%m-%d}.",
            "title": title,
            "description": description,
            "assignee": {"id": member.pk, "name": member.name},
            "due_date": due.isoformat(),
            "type": config.type,
            "priority": config.priority,
        }

    def run_many(self, ctxs):
        """``run`` for many accounts at once, for an assignee role or a named member: the
        role's holders read in one query, the tasks made with one insert. Round robin
        counts as it goes, so it is left to ``run`` (None: the engine calls it for each)."""
        config = ctxs[0].config
        if config.assignee_team_id is not None:
            return None
        workspace = ctxs[0].workspace
        prime_account_data([c.account for c in ctxs], ctxs[0].now, ctxs[0].catalog)
        held = {}
        if config.assignee_role:
            held = {
                a.account_id: a
                for a in Assignment.objects.filter(
                    account_id__in=[c.account.pk for c in ctxs], role__key=config.assignee_role
                ).select_related("member__user", "role")
            }
        fallback = _member(workspace, config.fallback_member_id)
        named = _member(workspace, config.assignee_member_id)
        results: list = [None] * len(ctxs)
        items, where = [], []
        for i, ctx in enumerate(ctxs):
            try:
                title, description = _rendered(config, ctx)
            except TemplateError as exc:
                results[i] = template_failure(exc)
                continue
            if config.assignee_role:
                a = held.get(ctx.account.pk)
                if a is not None and a.member.is_active:
                    member, how = a.member, f"{a.role.name} of the account"
                elif fallback is not None:
                    member, how = fallback, f"fallback: nobody holds {config.assignee_role} on the account"
                else:
                    member, how = None, f"no active member holds {config.assignee_role} on the account"
            else:
                member = named
                how = "named member" if named else f"member {config.assignee_member_id} is gone or inactive"
            if member is None:
                results[i] = Fail(f"no assignee: {how}")
                continue
            items.append(
                dict(
                    account=ctx.account,
                    title=title,
                    description=description,
                    due_date=self._due(config, ctx),
                    assignee=member,
                    type=config.type,
                    priority=config.priority,
                    play_id=ctx.play.pk,
                    source=f"Play: {ctx.play.name}"[:200],
                    key=ctx.key,
                )
            )
            where.append((i, how))
        for (i, how), (task, created, why) in zip(where, create_account_tasks(workspace, items), strict=True):
            if task is None:
                results[i] = Fail(f"the task could not be created: {why}")
            else:
                results[i] = _made(task, how) if created else _already(task)
        failed = {ctxs[i].key: i for i, r in enumerate(results) if isinstance(r, Fail)}
        if failed:  # a re-run whose first run made the task reports it, as ``run`` does
            for task in Task.objects.filter(workspace=workspace, key__in=list(failed)):
                results[failed[task.key]] = _already(task)
        return results

    def run(self, ctx):
        config = ctx.config

        def failed(result: Fail):
            # A re-run whose first run made the task reports it, whatever changed since.
            existing = Task.objects.filter(workspace=ctx.workspace, key=ctx.key).first()
            return _already(existing) if existing is not None else result

        try:
            title, description = _rendered(config, ctx)
        except TemplateError as exc:
            return failed(template_failure(exc))
        member, how = assignee_for(config, ctx)
        if member is None:
            return failed(Fail(f"no assignee: {how}"))
        due = self._due(config, ctx)
        try:
            task, created = create_account_task(
                ctx.account,
                title=title,
                description=description,
                due_date=due,
                assignee=member,
                type=config.type,
                priority=config.priority,
                play_id=ctx.play.pk,
                source=f"Play: {ctx.play.name}"[:200],
                key=ctx.key,
            )
        except InvalidInput as exc:
            return failed(Fail(f"the task could not be created: {exc}"))
        if not created:  # a re-run: the key handed back the task the first run made
            return _already(task)
        return _made(task, how)


def _made(task: Task, how: str) -> Done:
    return Done(
        f"Created task {task.title!r} for {task.assignee.name if task.assignee else 'nobody'} "
        f"({how}), due {task.due_date:%Y-%m-%d}.",
        {
            "task_id": task.pk,
            "created": True,
            "assignee_id": task.assignee_id,
            "due_date": task.due_date.isoformat(),
        },
    )
