"""What work adds to the account timeline: touchpoints, and tasks created and completed.

One query per source (touchpoints: plus two prefetches for participants), whatever the page
size; see ``tend.accounts.timeline``.
"""

from django.db.models import Q
from django.urls import reverse

from tend.accounts.timeline import TimelineItem, TimelineSource, add_timeline_source, before
from tend.work.actions import touchpoint_types
from tend.work.markdown import render_markdown
from tend.work.models import Task, TaskStatus, Touchpoint
from tend.work.queries import with_people


def _type_names(workspace) -> dict:
    return dict(touchpoint_types(workspace, include_archived=True))


def touchpoint_items(actor, account, cursor, limit, member):
    rows = (
        Touchpoint.objects.filter(workspace=actor.workspace, account=account)
        .filter(before(cursor, "touchpoint", "occurred_at"))
        .select_related("author__user")
        .prefetch_related("members__user", "contacts")
        .order_by("-occurred_at", "-id")
    )
    if member is not None:
        took_part = Touchpoint.members.through.objects.filter(member_id=member)
        rows = rows.filter(Q(author_id=member) | Q(pk__in=took_part.values("touchpoint_id")))
    rows = list(rows[:limit])
    if not rows:
        return []
    names = _type_names(actor.workspace)
    items = []
    for touchpoint in rows:
        people = [m.name for m in touchpoint.members.all()] + [
            c.name for c in touchpoint.contacts.all()
        ]
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
                body_html=render_markdown(touchpoint.body) if touchpoint.body else "",
                actor=touchpoint.author_name,
                actor_id=touchpoint.author_id,
                url=reverse("touchpoints:detail", args=[touchpoint.pk]),
                tone={"positive": "good", "negative": "bad"}.get(touchpoint.sentiment, ""),
                data={
                    "touchpoint_id": touchpoint.pk,
                    "type": touchpoint.type,
                    "subject": touchpoint.subject,
                    "body": touchpoint.body,
                    "sentiment": touchpoint.sentiment,
                    "participants": people,
                },
            )
        )
    return items


def _task_data(task: Task) -> dict:
    return {
        "task_id": task.pk,
        "title": task.title,
        "status": task.status,
        "due_date": task.due_date.isoformat(),
        "assignee": task.assignee.name if task.assignee else None,
    }


def task_created_items(actor, account, cursor, limit, member):
    rows = (
        with_people(Task.objects.filter(workspace=actor.workspace, account=account))
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
                url=reverse("work:detail", args=[task.pk]),
                data=_task_data(task),
            )
        )
    return items


def task_completed_items(actor, account, cursor, limit, member):
    rows = (
        with_people(
            Task.objects.filter(
                workspace=actor.workspace, account=account, status=TaskStatus.DONE
            ).exclude(completed_at=None)
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
            url=reverse("work:detail", args=[task.pk]),
            tone="good",
            data=_task_data(task),
        )
        for task in rows[:limit]
    ]


def register() -> None:
    add_timeline_source(TimelineSource("touchpoint", "Touchpoints", touchpoint_items, position=10))
    add_timeline_source(
        TimelineSource("task_created", "Tasks created", task_created_items, position=20)
    )
    add_timeline_source(
        TimelineSource("task_completed", "Tasks completed", task_completed_items, position=21)
    )
