"""The demo's tasks: what a CS team's inbox looks like on an ordinary morning.

Every CSM (and the contributor, and the admin, who logs in first) has work for the accounts
assigned to them: onboarding kickoffs for trials, and the everyday calls, emails,
QBRs and follow-ups. Some are overdue, some due today, most upcoming; a share of the past
ones are done (or cancelled), with when and by whom, and a few carry comments.

Renewal prep comes from the real "Renewal prep" play (:mod:`tend.demo.plays`), not from here.

Tasks go through the work app's actions (``create_task``, ``complete_task``, ``cancel_task``,
``add_comment``), then their dates are moved back to when they would
have been created and completed, as ``tend.demo.actions._backdate`` does for accounts.
"""

import datetime
import random

from django.utils import timezone

from tend.accounts.models import Account, Assignment
from tend.demo import vocabulary as v
from tend.work.actions import (
    add_comment,
    cancel_task,
    complete_task,
    create_task,
)
from tend.work.models import Task, TaskComment
from tend.workspaces.access import Actor
from tend.workspaces.models import Member

EVERYDAY = [
    ("call", "Check-in call with the champion", "normal"),
    ("meeting", "Quarterly business review", "high"),
    ("email", "Send the product update recap", "low"),
    ("follow_up", "Follow up on the open support ticket", "normal"),
    ("email", "Share the admin training recording", "normal"),
    ("call", "Discuss seat expansion", "high"),
    ("follow_up", "Confirm the new executive sponsor", "normal"),
    ("meeting", "Roadmap preview with the product team", "normal"),
    ("other", "Update the success plan", "low"),
]
COMMENTS = [
    "Left a voicemail; will try again tomorrow morning.",
    "They asked for the **usage report** first — attached it to the account notes.",
    "Champion is on leave until next week. Rescheduled.",
    "Agenda:\n\n- adoption since last quarter\n- open tickets\n- renewal timeline",
]
ADMIN_TASKS = [
    ("meeting", "Executive sponsor call", "urgent", 0),
    ("follow_up", "Review the escalation with Support", "high", -2),
    ("email", "Send the renewal terms for sign-off", "normal", 3),
    ("call", "Introduce the new CSM", "normal", 8),
]


def _midday(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def build_tasks(actor: Actor, today: datetime.date, seed: int = v.DEFAULT_SEED) -> dict:
    """Create the demo's tasks; returns counts for the command."""
    rng = random.Random(seed * 7 + 3)
    workspace = actor.workspace
    members = {m.pk: m for m in Member.objects.filter(workspace=workspace).select_related("user")}
    owner_of = dict(
        Assignment.objects.filter(workspace=workspace, role__key="success_manager").values_list(
            "account_id", "member_id"
        )
    )
    accounts = list(
        Account.objects.filter(workspace=workspace, pk__in=list(owner_of))
        .exclude(status="churned")
        .order_by("id")
    )
    created: list[tuple[Task, datetime.date]] = []  # the task and the day it was created
    due_today: set[int] = set()  # members given a task due today

    def add(account, member, kind, title, priority, due, description=""):
        task = create_task(
            Actor(workspace=workspace, member=member),
            account,
            {
                "title": title,
                "type": kind,
                "priority": priority,
                "due_date": due,
                "assignee": member,
                "description": description,
            },
        )
        created.append((task, min(today, due) - datetime.timedelta(days=rng.randint(2, 12))))
        return task

    for account in accounts:
        member = members[owner_of[account.pk]]
        if account.status == "trial":
            add(
                account,
                member,
                "onboarding",
                "Onboarding kickoff",
                "high",
                today + datetime.timedelta(days=rng.randint(-2, 5)),
                "Walk them through setup, agree on success criteria for the trial.",
            )
        # Everyday work: one in two accounts has something, spread around today; everyone's
        # first account has something due today, so every inbox opens with today's work.
        if member.pk not in due_today or rng.random() < 0.5:
            kind, title, priority = rng.choice(EVERYDAY)
            offset = 0 if member.pk not in due_today else rng.randint(-6, 21)
            due_today.add(member.pk)
            add(account, member, kind, title, priority, today + datetime.timedelta(days=offset))

    admin = next(m for m in members.values() if m.user.email == f"{v.ADMIN[0]}@{v.DOMAIN}")
    big = sorted(accounts, key=lambda a: -(a.attributes or {}).get("contract_value", 0))
    for (kind, title, priority, offset), account in zip(ADMIN_TASKS, big, strict=False):
        add(account, admin, kind, title, priority, today + datetime.timedelta(days=offset))

    # Most of what fell due before today was done on time, a few were cancelled; the rest
    # is the overdue work the inbox opens with.
    done = cancelled = 0
    completed_on: dict[int, datetime.date] = {}
    for task, _created_on in created:
        if task.due_date >= today or rng.random() < 0.35:
            continue
        worker = Actor(workspace=workspace, member=task.assignee)
        if rng.random() < 0.12:
            cancel_task(worker, task)
            cancelled += 1
        else:
            complete_task(worker, task)
            done += 1
        completed_on[task.pk] = task.due_date - datetime.timedelta(days=rng.randint(0, 2))

    comments = 0
    for task, _created_on in rng.sample(created, k=min(12, len(created))):
        add_comment(Actor(workspace=workspace, member=task.assignee), task, rng.choice(COMMENTS))
        comments += 1

    # Dates as they would be: created days before, completed around the due day.
    rows = {t.pk: t for t in Task.objects.filter(workspace=workspace)}
    for task, created_on in created:
        row = rows[task.pk]
        row.created_at = row.updated_at = _midday(min(created_on, today))
        if task.pk in completed_on:
            row.completed_at = row.updated_at = _midday(min(completed_on[task.pk], today))
    Task.objects.bulk_update(
        list(rows.values()), ["created_at", "updated_at", "completed_at"], batch_size=500
    )
    for comment in TaskComment.objects.filter(workspace=workspace).select_related("task"):
        comment.created_at = max(
            comment.task.created_at, _midday(today) - datetime.timedelta(days=1)
        )
        comment.save(update_fields=["created_at"])
    return {
        "tasks": len(created),
        "tasks_done": done,
        "tasks_cancelled": cancelled,
        "task_comments": comments,
    }
