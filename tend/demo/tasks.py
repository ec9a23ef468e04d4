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
    create_template,
    start_project,
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
        **_build_projects(actor, accounts, members, owner_of, today),
        "tasks": len(created),
        "tasks_done": done,
        "tasks_cancelled": cancelled,
        "task_comments": comments,
    }


def _t(offset, title, kind="onboarding", role="success_manager", description=""):
    return {"title": title, "offset_days": offset, "role": role, "type": kind, "description": description}


PROJECT_TEMPLATES = [
    (
        "Onboarding — mid-market",
        "A month from kickoff to go-live for a mid-market customer, run by their CSM.",
        [
            ("Kickoff", [
                _t(0, "Kickoff call: goals and success criteria", "meeting",
                   description="Agree what “live” means for them and who their admins are."),
                _t(2, "Send the welcome pack and onboarding plan", "email"),
            ]),
            ("Setup", [
                _t(7, "Connect their product usage data"),
                _t(10, "Admin training", "meeting"),
            ]),
            ("Adoption", [
                _t(21, "Adoption check: first team live", "call"),
                _t(30, "Go-live review and hand-off to steady state", "meeting"),
            ]),
        ],
    ),
    (
        "Enterprise onboarding",
        "Seventy-five days with Sales at both ends: hand-off, technical setup, rollout, first EBR.",
        [
            ("Kickoff", [
                _t(0, "Sales to CS hand-off", "meeting", role="sales_manager"),
                _t(3, "Executive kickoff with the sponsor", "meeting"),
                _t(7, "Success plan signed off", "other"),
            ]),
            ("Technical setup", [
                _t(14, "SSO and SCIM configured", role="",
                   description="With their IT team; our solutions engineer joins."),
                _t(21, "Data integration live"),
            ]),
            ("Rollout", [
                _t(35, "Pilot team trained", "meeting"),
                _t(50, "Rollout to every department", "call"),
            ]),
            ("Go-live", [
                _t(65, "Go-live review", "meeting"),
                _t(75, "First executive business review", "meeting", role="sales_manager"),
            ]),
        ],
    ),
]


def _build_projects(actor: Actor, accounts, members, owner_of, today: datetime.date) -> dict:
    """The two templates, and each started on a trial account: the mid-market one twelve
    days ago (its kickoff done, setup overdue), the enterprise one this week."""
    workspace = actor.workspace
    templates = [
        create_template(
            actor,
            {
                "name": name,
                "description": description,
                "milestones": [{"name": m, "tasks": tasks} for m, tasks in milestones],
            },
        )
        for name, description, milestones in PROJECT_TEMPLATES
    ]
    trials = [a for a in accounts if a.status == "trial"][:2]
    projects = 0
    for (template, days_ago), account in zip(((templates[0], 12), (templates[1], 2)), trials, strict=False):
        csm = Actor(workspace=workspace, member=members[owner_of[account.pk]])
        project = start_project(csm, account, template, {"start_date": today - datetime.timedelta(days=days_ago)})
        projects += 1
        for task in Task.objects.filter(project=project, due_date__lt=today - datetime.timedelta(days=4)):
            complete_task(Actor(workspace=workspace, member=task.assignee or csm.member), task)
            Task.objects.filter(pk=task.pk).update(completed_at=_midday(task.due_date))
    return {"project_templates": len(templates), "projects": projects}
