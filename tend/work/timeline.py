"""What work adds to the account timeline: touchpoints, tasks created and completed, and
projects started.

One query per source (touchpoints: plus one for the workspace's types and two for who took
part), whatever the page size; see ``tend.accounts.timeline``.
"""

from django.db.models import Count, Q
from django.urls import reverse

from tend.accounts.timeline import TimelineItem, TimelineSource, add_timeline_source, before
from tend.work.actions import touchpoint_types
from tend.work.markdown import render_markdown
from tend.work.models import Project, Task, TaskStatus, Touchpoint, TouchpointAttachment


def _type_names(workspace) -> dict:
    return dict(touchpoint_types(workspace, include_archived=True))


def _participants(ids: list[int]) -> dict[int, list[str]]:
    """Who took part in each touchpoint, teammates first: two plain queries on the link
    tables (cheaper than prefetching a manager per touchpoint)."""
    people: dict[int, list[str]] = {pk: [] for pk in ids}
    members = Touchpoint.members.through.objects.filter(touchpoint_id__in=ids).order_by("id")
    for pk, full_name, email in members.values_list(
        "touchpoint_id", "member__user__full_name", "member__user__email"
    ):
        people[pk].append(full_name or email.split("@")[0])
    contacts = Touchpoint.contacts.through.objects.filter(touchpoint_id__in=ids).order_by("id")
    for pk, name in contacts.values_list("touchpoint_id", "contact__name"):
        people[pk].append(name)
    return people


def _attachments(ids: list[int]) -> dict[int, list[dict]]:
    """The files of each touchpoint, in one query."""
    files: dict[int, list[dict]] = {pk: [] for pk in ids}
    rows = TouchpointAttachment.objects.filter(touchpoint_id__in=ids).order_by("id")
    for pk, touchpoint_id, name, size in rows.values_list(
        "pk", "touchpoint_id", "file_name", "size"
    ):
        files[touchpoint_id].append({"id": pk, "file_name": name, "size": size})
    return files


def touchpoint_items(actor, account, cursor, limit, member):
    rows = (
        Touchpoint.objects.filter(workspace=actor.workspace, account=account)
        .filter(before(cursor, "touchpoint", "occurred_at"))
        .select_related("author__user")
        .order_by("-occurred_at", "-id")
    )
    if member is not None:
        took_part = Touchpoint.members.through.objects.filter(member_id=member)
        rows = rows.filter(Q(author_id=member) | Q(pk__in=took_part.values("touchpoint_id")))
    rows = list(rows[:limit])
    if not rows:
        return []
    names = _type_names(actor.workspace)
    participants = _participants([t.pk for t in rows])
    files = _attachments([t.pk for t in rows])
    items = []
    for touchpoint in rows:
        people = participants[touchpoint.pk]
        type_name = names.get(touchpoint.type, touchpoint.type)
        detail = type_name
        if touchpoint.sentiment != "neutral":
            detail += f" · {touchpoint.get_sentiment_display().lower()}"
        if people:
            detail += " · with " + ", ".join(people)
        items.append(
            TimelineItem(
                source="touchpoint",
                kind="touchpoint",
                at=touchpoint.occurred_at,
                id=touchpoint.pk,
                title=f"{type_name}: {touchpoint.subject}",
                detail=detail,
                actor=touchpoint.author_name,
                actor_id=touchpoint.author_id,
                finish=_finish_touchpoint,
                tone={"positive": "good", "negative": "bad"}.get(touchpoint.sentiment, ""),
                data={
                    "touchpoint_id": touchpoint.pk,
                    "type": touchpoint.type,
                    "subject": touchpoint.subject,
                    "body": touchpoint.body,
                    "sentiment": touchpoint.sentiment,
                    "participants": people,
                    "attachments": files[touchpoint.pk],
                },
            )
        )
    return items


def _finish_touchpoint(item) -> None:
    body = item.data["body"]
    item.body_html = render_markdown(body) if body else ""
    item.url = reverse("touchpoints:detail", args=[item.id])
    for file in item.data["attachments"]:
        file["url"] = reverse("touchpoints:attachment", args=[item.id, file["id"]])
        item.links.append({"label": file["file_name"], "url": file["url"]})


def _finish_task(item) -> None:
    item.url = reverse("work:detail", args=[item.id])


# What a task's line shows: its description and the rest stay in the database.
TASK_FIELDS = ("title", "status", "due_date", "source", "created_at", "completed_at")


def _task_data(task: Task) -> dict:
    return {
        "task_id": task.pk,
        "title": task.title,
        "status": task.status,
        "due_date": task.due_date.isoformat(),
        "assignee": task.assignee.name if task.assignee else None,
    }


def task_created_items(actor, account, cursor, limit, member):
    """Tasks created one by one. A project's tasks are created with it and are told by its
    "Project started" line (with their number), not one line each."""
    rows = (
        Task.objects.filter(workspace=actor.workspace, account=account, project=None)
        .select_related("assignee__user", "created_by__user")
        .only(
            *TASK_FIELDS,
            "assignee__user__full_name",
            "assignee__user__email",
            "created_by__user__full_name",
            "created_by__user__email",
        )
        .filter(before(cursor, "task_created", "created_at"))
        .order_by("-created_at", "-id")
    )
    if member is not None:
        rows = rows.filter(created_by_id=member)
    items = []
    for task in rows[:limit]:
        who = task.created_by.name if task.created_by else (task.source or "")
        detail = f"for {task.assignee.name}" if task.assignee else "unassigned"
        detail += f", due {task.due_date:%b} {task.due_date.day}"
        items.append(
            TimelineItem(
                source="task_created",
                kind="task_created",
                at=task.created_at,
                id=task.pk,
                title=f"Task created: {task.title}",
                detail=detail,
                actor=who,
                actor_id=task.created_by_id,
                finish=_finish_task,
                data=_task_data(task),
            )
        )
    return items


def task_completed_items(actor, account, cursor, limit, member):
    rows = (
        Task.objects.filter(workspace=actor.workspace, account=account, status=TaskStatus.DONE)
        .exclude(completed_at=None)
        .select_related("assignee__user", "completed_by__user")
        .only(
            *TASK_FIELDS,
            "assignee__user__full_name",
            "assignee__user__email",
            "completed_by__user__full_name",
            "completed_by__user__email",
        )
        .filter(before(cursor, "task_completed", "completed_at"))
        .order_by("-completed_at", "-id")
    )
    if member is not None:
        rows = rows.filter(completed_by_id=member)
    return [
        TimelineItem(
            source="task_completed",
            kind="task_completed",
            at=task.completed_at,
            id=task.pk,
            title=f"Task completed: {task.title}",
            actor=task.completed_by.name if task.completed_by else "",
            actor_id=task.completed_by_id,
            finish=_finish_task,
            tone="good",
            data=_task_data(task),
        )
        for task in rows[:limit]
    ]


def _finish_project(item) -> None:
    item.url = reverse("projects:detail", args=[item.id])


def project_started_items(actor, account, cursor, limit, member):
    rows = (
        Project.objects.filter(workspace=actor.workspace, account=account)
        .select_related("created_by__user")
        .annotate(task_count=Count("tasks"))
        .filter(before(cursor, "project_started", "created_at"))
        .order_by("-created_at", "-id")
    )
    if member is not None:
        rows = rows.filter(created_by_id=member)
    return [
        TimelineItem(
            source="project_started",
            kind="project_started",
            at=project.created_at,
            id=project.pk,
            title=f"Project started: {project.name}",
            detail=f"{project.task_count} task{'' if project.task_count == 1 else 's'} "
            f"from {project.start_date:%b} {project.start_date.day}, go-live expected "
            f"{project.expected_go_live:%b} {project.expected_go_live.day}",
            actor=project.created_by.name if project.created_by else project.source,
            actor_id=project.created_by_id,
            finish=_finish_project,
            data={
                "project_id": project.pk,
                "name": project.name,
                "start_date": project.start_date.isoformat(),
                "expected_go_live": project.expected_go_live.isoformat(),
                "tasks": project.task_count,
            },
        )
        for project in rows[:limit]
    ]


def register() -> None:
    add_timeline_source(TimelineSource("touchpoint", "Touchpoints", touchpoint_items, position=10))
    add_timeline_source(
        TimelineSource("task_created", "Tasks created", task_created_items, position=20)
    )
    add_timeline_source(
        TimelineSource("task_completed", "Tasks completed", task_completed_items, position=21)
    )
    add_timeline_source(
        TimelineSource("project_started", "Projects started", project_started_items, position=22)
    )
