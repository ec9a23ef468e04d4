"""Home: where a member starts the day — my tasks due today and overdue, the accounts I follow
with their health and what changed this week, my latest notifications, and panels other apps
add (``PANELS``).

The follows' changes and the tasks come from the digest's ``build`` (the same reading as the
daily email, over the last ``RECENT`` instead of since the last digest), so Home, the digest
preview and the email never disagree. A fixed number of queries, whatever is followed.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.shortcuts import render
from django.utils import timezone

from tend.alerts.models import Follow
from tend.digest.content import build
from tend.notifications.models import Notification
from tend.work.views.project import projects_due
from tend.workspaces.views import member_page

RECENT = datetime.timedelta(days=7)
FOLLOWED_SHOWN = 12
CHANGES_PER_ACCOUNT = 3
NOTIFICATIONS_SHOWN = 8


@dataclass(frozen=True)
class HomePanel:
    """One more card on Home. ``context(request, now)`` returns the template's context, or
    None to leave the card out; it must cost a fixed number of queries."""

    key: str
    title: str
    template: str
    context: Callable
    position: int = 100


# The extension spot: apps above the digest cannot be imported by lower layers, so Home's
# extra cards are listed here, in the shell that assembles pages. Renewals and NPS go here
# when they land.
PANELS: list[HomePanel] = [
    HomePanel("projects", "Projects due", "work/home_projects.html", projects_due, position=10),
]


@member_page
def home(request):
    member = request.actor.member
    now = timezone.now()
    digest = build(member, now, since=now - RECENT)
    follows = list(
        Follow.objects.filter(workspace=member.workspace_id, member=member, account__isnull=False)
        .select_related("account__health")
        .order_by("account__name", "account_id")[: FOLLOWED_SHOWN + 1]
    )
    changes = {a.account_id: a.changes[-CHANGES_PER_ACCOUNT:][::-1] for a in digest.accounts}
    followed = [
        {
            "account": f.account,
            "rank": getattr(getattr(f.account, "health", None), "rank", None),
            "score": getattr(getattr(f.account, "health", None), "score", None),
            "changes": changes.get(f.account_id, []),
        }
        for f in follows[:FOLLOWED_SHOWN]
    ]
    notifications = list(
        Notification.objects.filter(workspace=member.workspace_id, member=member).order_by("-id")[
            :NOTIFICATIONS_SHOWN
        ]
    )
    panels = []
    for panel in sorted(PANELS, key=lambda p: p.position):
        context = panel.context(request, now)
        if context is not None:
            panels.append({"panel": panel, "context": context})
    return render(
        request,
        "web/home.html",
        {
            "digest": digest,
            "followed": followed,
            "more_followed": len(follows) > FOLLOWED_SHOWN,
            "notifications": notifications,
            "panels": panels,
            "recent_days": RECENT.days,
        },
    )
