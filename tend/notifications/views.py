"""The notification centre: the list (all or unread), open (mark read and go to the cause),
mark read, mark all read. A member sees only their own notifications; anyone else's id is
a 404."""

from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tend.notifications.actions import mark_all_read, mark_read
from tend.notifications.queries import notification_for, notifications_for
from tend.workspaces.views import member_page

PAGE_SIZE = 30
SHOW = ("all", "unread")


@member_page
def notification_list(request):
    show = request.GET.get("show") or "all"
    if show not in SHOW:
        return HttpResponseBadRequest(f"show: expected one of {', '.join(SHOW)}, got {show!r}.")
    rows = notifications_for(request.actor).select_related("account")
    if show == "unread":
        rows = rows.filter(read_at__isnull=True)
    page = Paginator(rows.order_by("-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "show": show}
    template = "notifications/list.html#list" if request.htmx else "notifications/list.html"
    return render(request, template, context)


def _safe(url: str, request) -> bool:
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


@member_page
def notification_open(request, notification_id: int):
    """Follow the link to the cause; opening it marks it read. GET, because it is a link:
    marking read is idempotent and harmless."""
    notification = notification_for(request.actor, notification_id)
    mark_read(request.actor.member, notification)
    target = notification.url if _safe(notification.url, request) else None
    if target is None and notification.account_id:
        target = reverse("accounts:profile", args=[notification.account_id])
    return redirect(target or reverse("notifications:list"))


@require_POST
@member_page
def notification_read(request, notification_id: int):
    notification = notification_for(request.actor, notification_id)
    mark_read(request.actor.member, notification)
    if request.htmx:
        return render(request, "notifications/list.html#row", {"n": notification, "swap_bell": True})
    return redirect(request.POST.get("next") if _safe(request.POST.get("next", ""), request) else reverse("notifications:list"))


@require_POST
@member_page
def notification_read_all(request):
    mark_all_read(request.actor.member)
    return redirect(reverse("notifications:list") + ("?show=unread" if request.POST.get("show") == "unread" else ""))


@member_page
def bell_count(request):
    """The bell's number alone: the layout asks for it every minute, so an alert shows up
    on a page left open."""
    return render(request, "notifications/_bell_count.html")
