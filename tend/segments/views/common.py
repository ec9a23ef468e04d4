"""What every segments page needs: the segment through the access chokepoint, the link to
its accounts in the accounts list, and navigating after a form."""

from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from tend.accounts.condition_builder import compact
from tend.segments.conditions import FIELD
from tend.segments.models import Segment
from tend.segments.queries import get_segment, visible_segments


def segment_for(request, segment_id: int, *, edit: bool = False) -> Segment:
    """The segment if the actor sees it (404 otherwise: another workspace's, another
    member's private one); with ``edit``, if they may change it (403 otherwise)."""
    actor = request.actor
    queryset = visible_segments(actor).select_related("owner__user")
    return get_segment(actor, segment_id, edit=edit, queryset=queryset)


def accounts_list_url(segment: Segment) -> str:
    """The accounts list filtered to the segment's members (to filter and sort them more)."""
    condition = {"all": [{"field": FIELD, "op": "in", "value": [segment.pk]}]}
    return f"{reverse('accounts:list')}?{urlencode({'where': compact(condition)})}"


def go(request, url: str):
    """To ``url``: a full navigation, also after an htmx request."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
