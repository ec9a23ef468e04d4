"""The segments pages: the list, a segment (its members with the accounts list's columns,
its entries and exits, its member count day by day, their export), its full history, and
deleting it.

Every segment comes through :func:`tend.segments.views.common.segment_for` (404 for one the
actor cannot see); lists start from ``visible_segments`` (shared ones and the actor's
private ones), paginated, with a fixed number of queries whatever the page's size.
"""

import datetime
from dataclasses import replace
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods

from tend.accounts import condition_builder as cb
from tend.accounts.conditions import account_catalog, condition_now
from tend.accounts.exports import parse_format
from tend.accounts.extensions import list_columns
from tend.accounts.models import AssignmentRole
from tend.accounts.queries import (
    DEFAULT_SORT,
    PAGE_SIZE,
    AccountFilters,
    accounts_for_list,
    list_attribute_columns,
    primary_role_of,
)
from tend.accounts.views.accounts.common import member_required
from tend.accounts.views.accounts.listing import make_rows, page_links, sort_headers
from tend.lib.errors import InvalidInput
from tend.segments.actions import delete_segment
from tend.segments.actions.evaluation import local_day
from tend.segments.actions.segments import dependents
from tend.segments.exports import export_segment_columns
from tend.segments.extensions import page_actions
from tend.segments.models import ChangeKind, SegmentChange, SegmentCount, Visibility
from tend.segments.queries import (
    acting_member,
    can_edit,
    counts_of,
    history_of,
    members_of,
    visible_segments,
)
from tend.segments.views.common import accounts_list_url, go, segment_for
from tend.workspaces.access import CONTRIBUTE

LIST_PAGE = 50
HISTORY_PAGE = 50
RECENT_CHANGES = 10
CHART_DAYS = 90
WEEK = datetime.timedelta(days=7)
SHOWS = {
    "": "All",
    "shared": "Shared",
    "mine": "My private ones",
}


def _week_start(workspace) -> tuple[datetime.date, datetime.datetime]:
    """The local day a week ago and the moment it began. "Change in 7 days" is the members
    now against the count when that day began (the last count of the day before), so it
    equals the entries less the exits since that moment."""
    now = condition_now(workspace)
    day = now.date() - WEEK
    return day, datetime.datetime.combine(day, datetime.time(), tzinfo=now.tzinfo)


# --- the list ----------------------------------------------------------------------------


@member_required
@require_GET
def segment_list(request):
    actor = request.actor
    workspace = actor.workspace
    show = request.GET.get("show", "")
    show = show if show in SHOWS else ""
    q = (request.GET.get("q") or "").strip()[:120]
    visible = visible_segments(actor)
    tallies = visible.aggregate(
        all=Count("id"),
        shared=Count("id", filter=Q(visibility=Visibility.SHARED)),
        mine=Count("id", filter=Q(visibility=Visibility.PRIVATE)),
    )
    segments = visible
    if show == "shared":
        segments = segments.filter(visibility=Visibility.SHARED)
    elif show == "mine":
        segments = segments.filter(visibility=Visibility.PRIVATE)  # only the actor's are visible
    if q:
        segments = segments.filter(name__icontains=q)
    # The count on the last recorded day a week or more ago: "change in 7 days" against it.
    week_ago = SegmentCount.objects.filter(
        segment=OuterRef("pk"), day__lt=_week_start(workspace)[0]
    )
    segments = (
        segments.select_related("owner__user")
        .annotate(week_ago=Subquery(week_ago.order_by("-day").values("members")[:1]))
        .order_by("name", "id")
    )
    page = Paginator(segments, LIST_PAGE).get_page(request.GET.get("page"))
    member = acting_member(actor)
    rows = [
        {
            "segment": s,
            "change": None if s.week_ago is None else s.member_count - s.week_ago,
            "change_abs": None if s.week_ago is None else abs(s.member_count - s.week_ago),
            "mine": member is not None and s.owner_id == member.pk,
        }
        for s in page.object_list
    ]

    def url(**changes) -> str:
        params = {"show": show, "q": q, **changes}
        query = urlencode({k: v for k, v in params.items() if v not in ("", None, 1)})
        return reverse("segments:list") + (f"?{query}" if query else "")

    context = {
        "rows": rows,
        "page": page,
        "show": show,
        "q": q,
        "tabs": [
            {
                "key": key,
                "label": label,
                "count": tallies[key or "all"],
                "url": url(show=key, page=None),
                "active": key == show,
            }
            for key, label in SHOWS.items()
        ],  # fmt: skip
        "previous_url": url(page=page.previous_page_number()) if page.has_previous() else "",
        "next_url": url(page=page.next_page_number()) if page.has_next() else "",
        "can_create": actor.can(CONTRIBUTE),
        "total": tallies["all"],
    }
    return render(request, "segments/list.html", context)


# --- one segment -------------------------------------------------------------------------


def _members_url(segment):
    base = reverse("segments:detail", kwargs={"segment_id": segment.pk})

    def url(filters: AccountFilters, **changes) -> str:
        values = {"mq": filters.q, "sort": filters.sort, **changes}
        if values["sort"] == DEFAULT_SORT:
            values.pop("sort")
        if str(values.get("page")) == "1":
            values.pop("page")
        query = urlencode({k: v for k, v in values.items() if v not in ("", None)})
        return base + (f"?{query}" if query else "") + "#members"

    return url


def members_context(request, segment) -> dict:
    """The members table: the accounts list's columns, sorts and pages, for this segment."""
    actor = request.actor
    workspace = actor.workspace
    filters = AccountFilters(
        q=(request.GET.get("mq") or "").strip()[:200], sort=request.GET.get("sort") or DEFAULT_SORT
    )
    roles = list(AssignmentRole.objects.filter(workspace=workspace))
    owner_role = primary_role_of(roles)
    accounts = accounts_for_list(workspace, filters, owner_role).filter(
        pk__in=members_of(segment).values("account_id")
    )
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    columns = list_attribute_columns(workspace)
    extra_columns = list_columns()
    url = _members_url(segment)
    headers = sort_headers(filters, url)
    editable = not segment.is_dynamic and can_edit(actor, segment)
    return {
        "segment": segment,
        "members_filters": filters,
        "page": page,
        "rows": make_rows(page.object_list, columns, extra_columns),
        "columns": columns,
        "extra_columns": [{"column": c, "header": headers.get(c.key)} for c in extra_columns],
        "owner_role": owner_role,
        "sort_headers": headers,
        "page_links": page_links(page, filters, url),
        "members_url": url(filters),
        "clear_members_url": url(replace(filters, q="")),
        "row_action": {
            "url": reverse("segments:remove_member", kwargs={"segment_id": segment.pk}),
            "label": "Remove",
        }
        if editable
        else None,
    }


def _chart(segment) -> dict:
    since = local_day(segment.workspace, timezone.now()) - datetime.timedelta(days=CHART_DAYS)
    days = counts_of(segment, since=since)
    return {
        "points": [[day.isoformat(), members] for day, members in days],
        "days": len(days),
        "span": CHART_DAYS,
    }


def _recent(segment):
    return list(history_of(segment).select_related("account", "member__user")[:RECENT_CHANGES])


@member_required
@require_GET
def segment_detail(request, segment_id: int):
    segment = segment_for(request, segment_id)
    actor = request.actor
    context = members_context(request, segment)
    # Sorting, searching and paging the members swaps the table alone.
    if request.htmx and request.htmx.target == "segment-members":
        response = render(request, "segments/detail.html#members", context)
        patch_vary_headers(response, ("HX-Request",))
        return response
    catalog = account_catalog(actor.workspace) if segment.is_dynamic else None
    week_day, since = _week_start(actor.workspace)
    week = SegmentChange.objects.filter(
        workspace=actor.workspace, segment=segment, at__gte=since
    ).aggregate(
        entered=Count("id", filter=Q(kind=ChangeKind.ENTERED)),
        left=Count("id", filter=Q(kind=ChangeKind.LEFT)),
    )
    week_ago = (
        SegmentCount.objects.filter(segment=segment, day__lt=week_day)
        .order_by("-day")
        .values_list("members", flat=True)
        .first()
    )
    context.update(
        {
            "can_edit": can_edit(actor, segment),
            "words": cb.describe(segment.condition, catalog, cb.Options(actor))
            if catalog is not None
            else "",
            "week": week,
            "change": None if week_ago is None else segment.member_count - week_ago,
            "chart": _chart(segment),
            "recent": _recent(segment),
            "changes_total": history_of(segment).count(),
            "accounts_url": accounts_list_url(segment),
            "export_url": reverse("segments:export", kwargs={"segment_id": segment.pk}),
            "page_actions": page_actions(request, segment),
        }
    )
    response = render(request, "segments/detail.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@member_required
@require_GET
def segment_history(request, segment_id: int):
    segment = segment_for(request, segment_id)
    kind = request.GET.get("kind", "")
    changes = history_of(segment).select_related("account", "member__user")
    if kind in ChangeKind.values:
        changes = changes.filter(kind=kind)
    else:
        kind = ""
    page = Paginator(changes, HISTORY_PAGE).get_page(request.GET.get("page"))

    def url(**changes) -> str:
        params = {"kind": kind, **changes}
        query = urlencode({k: v for k, v in params.items() if v not in ("", None, 1)})
        return request.path + (f"?{query}" if query else "")

    context = {
        "segment": segment,
        "page": page,
        "kind": kind,
        "kinds": [("", "All"), *ChangeKind.choices],
        "kind_urls": {value: url(kind=value) for value, _label in [("", ""), *ChangeKind.choices]},
        "previous_url": url(page=page.previous_page_number()) if page.has_previous() else "",
        "next_url": url(page=page.next_page_number()) if page.has_next() else "",
    }
    return render(request, "segments/history.html", context)


@member_required
@require_http_methods(["GET", "POST"])
def segment_delete(request, segment_id: int):
    segment = segment_for(request, segment_id, edit=True)
    error = ""
    if request.method == "POST":
        try:
            delete_segment(request.actor, segment)
        except InvalidInput as exc:
            error = exc.message
        else:
            messages.success(request, f"Deleted the segment “{segment.name}”.")
            return go(request, reverse("segments:list"))
    context = {"segment": segment, "used_by": dependents(segment), "error": error}
    return render(request, "segments/delete.html", context, status=422 if error else 200)


@member_required
@require_GET
def segment_export(request, segment_id: int):
    """The members with the accounts list's columns, as CSV or XLSX (the Export button)."""
    segment = segment_for(request, segment_id)
    try:
        format = parse_format(request.GET.get("format"))
    except InvalidInput as exc:
        return JsonResponse({"detail": str(exc), "errors": [exc.as_dict()]}, status=422)
    return export_segment_columns(request.actor, segment, format)
