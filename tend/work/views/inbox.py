"""The tasks inbox, "My tasks": open tasks grouped overdue / today / upcoming by the
workspace's today, or the done and cancelled ones; filtered by assignee, type, account and
text; a page of 100 at a time, in a fixed number of queries whatever the page holds.

Admins and practitioners may look at anyone's tasks (or everyone's, or the unassigned
ones); other seats see their own.
"""

import datetime
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tend.accounts.models import Account
from tend.accounts.views.accounts.common import member_required
from tend.work.models import TaskStatus, TaskType
from tend.work.queries import assigned_account_ids, can_change, tasks_of, with_people
from tend.work.views.common import row_context
from tend.workspaces.access import CONTRIBUTE, WRITE

PAGE_SIZE = 100
GROUPS = (
    ("overdue", "Overdue"),
    ("today", "Due today"),
    ("upcoming", "Upcoming"),
)


def _who(request, members) -> str:
    """``me``, ``all``, ``none`` or a member id; only writers look beyond their own."""
    who = request.GET.get("who", "me")
    if not request.actor.can(WRITE):
        return "me"
    if who in ("me", "all", "none") or who in {str(m.pk) for m in members}:
        return who
    return "me"


def _account(request):
    try:
        pk = int(request.GET.get("account", ""))
    except ValueError:
        return None
    return Account.objects.filter(workspace=request.actor.workspace, pk=pk).first()


@member_required
@require_GET
def inbox(request):
    actor = request.actor
    me = actor.member
    workspace = actor.workspace
    context = row_context(request, workspace)
    today: datetime.date = context["today"]
    members = context["members"]
    who = _who(request, members)
    kind = request.GET.get("type", "")
    kind = kind if kind in TaskType.values else ""
    done = request.GET.get("show") == "done"
    q = (request.GET.get("q") or "").strip()[:120]
    account = _account(request)

    tasks = tasks_of(actor)
    if who == "me":
        tasks = tasks.filter(assignee=me)
    elif who == "none":
        tasks = tasks.filter(assignee__isnull=True)
    elif who != "all":
        tasks = tasks.filter(assignee_id=int(who))
    if kind:
        tasks = tasks.filter(type=kind)
    if account is not None:
        tasks = tasks.filter(account=account)
    if q:
        tasks = tasks.filter(Q(title__icontains=q) | Q(account__name__icontains=q))

    tally = tasks.aggregate(
        open=Count("id", filter=Q(status=TaskStatus.OPEN)),
        closed=Count("id", filter=~Q(status=TaskStatus.OPEN)),
        overdue=Count("id", filter=Q(status=TaskStatus.OPEN, due_date__lt=today)),
        today=Count("id", filter=Q(status=TaskStatus.OPEN, due_date=today)),
    )
    tally["upcoming"] = tally["open"] - tally["overdue"] - tally["today"]
    if done:
        listed = with_people(tasks.closed()).order_by("-completed_at", "-id")
    else:
        listed = with_people(tasks.open()).by_urgency()
    paginator = Paginator(listed, PAGE_SIZE)
    paginator.count = tally["closed"] if done else tally["open"]  # counted above: no 2nd query
    page = paginator.get_page(request.GET.get("page"))
    rows = list(page.object_list)
    assigned = set() if actor.can(WRITE) else assigned_account_ids(me, {t.account_id for t in rows})
    items = [{"task": t, "can_change": can_change(actor, t, assigned)} for t in rows]
    groups = []
    if not done:
        for key, label in GROUPS:
            group_rows = [i for i in items if i["task"].when(today) == key]
            if group_rows:
                groups.append({"key": key, "label": label, "rows": group_rows, "total": tally[key]})

    params = {"who": who, "type": kind, "q": q, "account": account.pk if account else ""}
    base = {k: v for k, v in params.items() if v}

    def url(**changes):
        query = {**base, **changes}
        return "?" + urlencode({k: v for k, v in query.items() if v not in ("", None)})

    context.update(
        page=page,
        items=items,
        groups=groups,
        done=done,
        tally=tally,
        who=who,
        kind=kind,
        q=q,
        account=account,
        types=TaskType.choices,
        can_look_around=actor.can(WRITE),
        can_create=actor.can(CONTRIBUTE),
        can_bulk=any(i["can_change"] for i in items),
        open_url=url(),
        done_url=url(show="done"),
        clear_account_url=url(account=""),
        previous_url=url(show="done" if done else "", page=page.previous_page_number())
        if page.has_previous()
        else "",
        next_url=url(show="done" if done else "", page=page.next_page_number())
        if page.has_next()
        else "",
        is_filtered=bool(kind or q or account),
        here=request.get_full_path(),
    )
    return render(request, "work/inbox.html", context)
