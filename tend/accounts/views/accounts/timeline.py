"""The account profile's Timeline panel, and its fragment for filters and infinite scroll.

The panel shows the first page; the last item of each page carries an htmx sentinel that
fetches the next page (``?cursor=``) when scrolled into view, and the filter form swaps the
whole list. Without JavaScript the filters are a plain GET of the profile and the sentinel
is a "Load older" link to the fragment.
"""

from urllib.parse import urlencode

from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from tend.accounts.extensions import ProfilePanel, add_profile_panel
from tend.accounts.timeline import account_timeline, kinds_param, parse_cursor, timeline_sources
from tend.accounts.views.accounts.common import account_for, member_required
from tend.lib.errors import InvalidInput
from tend.workspaces.models import Member

PAGE_SIZE = 20
KIND = "tl_kind"
MEMBER = "tl_member"


def _member_param(request, actor) -> int | None:
    raw = (request.GET.get(MEMBER) or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidInput(MEMBER, "must be a member id")
    if not Member.objects.filter(workspace=actor.workspace, pk=int(raw)).exists():
        raise InvalidInput(MEMBER, "no such member in this workspace")
    return int(raw)


def timeline_context(request, account, *, cursor: str | None = None, strict=False) -> dict:
    """The panel's context; bad filters are shown as an error over the unfiltered feed, or,
    ``strict``, raised (``InvalidInput`` naming the parameter)."""
    actor = request.actor
    sources = timeline_sources(actor)
    error = ""
    try:
        kind = (request.GET.get(KIND) or "").strip()
        kinds = kinds_param(kind, actor)
        member = _member_param(request, actor)
        page = account_timeline(
            actor, account, cursor=parse_cursor(cursor), limit=PAGE_SIZE, kinds=kinds, member=member
        )
    except InvalidInput as exc:
        if strict:
            raise
        error = str(exc).replace("tl_kind", "kind").replace("tl_member", "member")
        kind, member = "", None
        page = account_timeline(actor, account, limit=PAGE_SIZE)
    fragment = reverse("accounts:timeline", args=[account.pk])
    filters = {k: v for k, v in ((KIND, kind), (MEMBER, member or "")) if v}
    more = None
    if page.next_cursor:
        more = f"{fragment}?{urlencode({**filters, 'cursor': page.next_cursor})}"
    return {
        "account": account,
        "items": page.items,
        "more": more,
        "sources": sources,
        "kind": kind,
        "member": member,
        # The filter's choices: only the panel's form shows them, not a page of items.
        "members": []
        if cursor
        else list(
            Member.objects.filter(workspace=actor.workspace, is_active=True)
            .select_related("user")
            .order_by("user__full_name", "user__email")
        ),
        "filtered": bool(filters),
        "fragment_url": fragment,
        "error": error,
        "tz": actor.workspace.time_zone or "UTC",
        "first_page": cursor is None,
    }


def timeline_panel(request, account) -> dict:
    return timeline_context(request, account)


@member_required
@require_GET
def timeline_fragment(request, account_id: int):
    """The next page (``cursor``) as list items, or with ``part=list`` the whole list for
    new filters. Outside the workspace: 404, like the profile."""
    account = account_for(request, account_id)
    cursor = request.GET.get("cursor") or None
    try:
        panel = timeline_context(request, account, cursor=cursor, strict=True)
    except InvalidInput as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain")
    context = {"panel": panel, "account": account}
    part = "items" if cursor else "list"
    return render(request, f"accounts/timeline_panel.html#{part}", context)


def register() -> None:
    add_profile_panel(
        ProfilePanel(
            key="timeline",
            template="accounts/timeline_panel.html",
            context=timeline_panel,
            column="main",
            position=40,
        )
    )
