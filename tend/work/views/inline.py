"""Changing tasks from lists: complete, reopen, cancel, reassign and reschedule one task in
place (htmx swaps the row of the inbox, or the account profile's Tasks panel), and the
inbox's bulk actions.

``view`` in the POST says what to answer: ``row`` (the inbox's row), ``panel`` (the
profile's panel) or nothing (a full page: back to ``next``, or the task). A change the
action refuses answers 422 with the row or panel again, the reason shown in it.
"""

import datetime

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tend.accounts.views.accounts.common import member_required
from tend.lib.errors import InvalidInput
from tend.work import actions
from tend.work.queries import can_change
from tend.work.views.common import go, row_context, safe_next, task_for
from tend.work.views.panel import tasks_panel

DONE_MESSAGES = {
    "complete": "Task completed.",
    "reopen": "Task reopened.",
    "cancel": "Task cancelled.",
    "reassign": "Task reassigned.",
    "reschedule": "Task rescheduled.",
}


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise InvalidInput("due_date", "must be a date (YYYY-MM-DD)") from exc


def _answer(request, task, verb: str, error: str = ""):
    view = request.POST.get("view", "")
    status = 422 if error else 200
    if view == "row" and request.htmx:
        context = row_context(request, request.actor.workspace)
        context.update(
            item={"task": task, "can_change": can_change(request.actor, task)},
            error=error,
            just=verb if not error else "",
            here=safe_next(request, reverse("work:inbox")),
        )
        return render(request, "work/_task_row.html", context, status=status)
    if view == "panel" and request.htmx:
        context = {"account": task.account, "panel": tasks_panel(request, task.account)}
        context["panel"]["error"] = error
        return render(request, "work/panel.html#section", context, status=status)
    if error:
        messages.error(request, f"“{task.title}” was not changed: {error}.")
    else:
        messages.success(request, DONE_MESSAGES[verb])
    return go(request, safe_next(request, reverse("work:detail", args=[task.pk])))


def _change(request, task_id: int, verb: str, apply):
    task = task_for(request, task_id, change=True)
    try:
        task = apply(task)
    except InvalidInput as exc:
        task.refresh_from_db()
        return _answer(request, task, verb, exc.message)
    return _answer(request, task_for(request, task_id), verb)


@member_required
@require_POST
def complete(request, task_id: int):
    return _change(request, task_id, "complete", lambda t: actions.complete_task(request.actor, t))


@member_required
@require_POST
def reopen(request, task_id: int):
    return _change(request, task_id, "reopen", lambda t: actions.reopen_task(request.actor, t))


@member_required
@require_POST
def cancel(request, task_id: int):
    return _change(request, task_id, "cancel", lambda t: actions.cancel_task(request.actor, t))


@member_required
@require_POST
def reassign(request, task_id: int):
    return _change(
        request,
        task_id,
        "reassign",
        lambda t: actions.reassign(request.actor, t, request.POST.get("assignee") or None),
    )


@member_required
@require_POST
def reschedule(request, task_id: int):
    return _change(
        request,
        task_id,
        "reschedule",
        lambda t: actions.reschedule(request.actor, t, _date(request.POST.get("due_date", ""))),
    )


@member_required
@require_POST
def bulk(request):
    """The inbox's checkboxes: one action over the chosen tasks, then back to the inbox with
    what changed and, for each task left alone, why."""
    back = safe_next(request, reverse("work:inbox"))
    action = request.POST.get("action", "")
    try:
        due_date = _date(request.POST.get("due_date", "")) if action == "reschedule" else None
        result = actions.bulk_update_tasks(
            request.actor,
            action,
            request.POST.getlist("ids"),
            assignee=request.POST.get("assignee") or None,
            due_date=due_date,
        )
    except InvalidInput as exc:
        messages.error(request, f"Nothing was changed: {exc.message}.")
        return go(request, back)
    if result.changed:
        n = len(result.changed)
        messages.success(request, f"{DONE_MESSAGES[action][:-1]}: {n} task{'s' if n != 1 else ''}.")
    for item in result.unchanged[:10]:
        messages.warning(request, f"Task {item['id']} left as it was: {item['reason']}.")
    if len(result.unchanged) > 10:
        messages.warning(request, f"…and {len(result.unchanged) - 10} more left as they were.")
    return go(request, back)
