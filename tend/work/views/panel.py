"""The Tasks panel of the account profile: the account's open tasks, most urgent first, each
with a complete button, and a link to add one."""

from urllib.parse import urlencode

from django.urls import reverse

from tend.work.models import Task
from tend.work.queries import assigned_account_ids, can_change, local_today, with_people
from tend.workspaces.access import CONTRIBUTE, WRITE

PANEL_SIZE = 10


def tasks_panel(request, account) -> dict:
    actor = request.actor
    here = reverse("accounts:profile", args=[account.pk])
    tasks = with_people(Task.objects.filter(workspace=actor.workspace, account=account).open())
    rows = list(tasks.by_urgency()[: PANEL_SIZE + 1])
    more = len(rows) > PANEL_SIZE
    rows = rows[:PANEL_SIZE]
    assigned = set() if actor.can(WRITE) else assigned_account_ids(actor.member, {account.pk})
    total = tasks.count() if more else len(rows)
    return {
        "items": [{"task": t, "can_change": can_change(actor, t, assigned)} for t in rows],
        "total": total,
        "more": total - len(rows),
        "today": local_today(actor.workspace),
        "can_create": actor.can(CONTRIBUTE),
        # Back to the profile once the task is added.
        "new_url": f"{reverse('work:new')}?{urlencode({'account': account.pk, 'next': here})}",
        "all_url": f"{reverse('work:inbox')}?who=all&account={account.pk}",
        "done_url": f"{reverse('work:inbox')}?who=all&show=done&account={account.pk}",
        "here": here,
        "error": "",
    }
