"""The profile's end users by activity: who uses the product, when they were last seen and
how much they did in 7 and 30 days; paginated and sortable, swapped in place by htmx."""

from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from tend.accounts.views.accounts.common import account_for, member_required
from tend.usage.display import duration, exact_time, frequency_label, relative_time
from tend.usage.extensions import usage_of
from tend.usage.queries import DEFAULT_USER_SORT, end_users_by_activity, user_sort
from tend.usage.views.account_scope import scope_for

PAGE_SIZE = 10
SORT_PARAM = "users_sort"
PAGE_PARAM = "users_activity_page"
# Column → the order its first click asks for (most recent / busiest first).
SORTABLE = {"last_seen": "-last_seen", "events_30d": "-events_30d", "name": "name"}


def _row(person, time_zone: str) -> dict:
    usage = usage_of(person)
    seen = usage.last_seen_ms if usage else None
    return {
        "person": person,
        "last_seen": relative_time(seen, time_zone),
        "last_seen_exact": exact_time(seen, time_zone),
        "frequency": frequency_label(usage.visit_frequency) if usage else "",
        "frequency_key": usage.visit_frequency if usage else "",
        "events_7d": usage.events_7d if usage else None,
        "events_30d": usage.events_30d if usage else None,
        "time_30d": duration(usage.seconds_30d) if usage else "",
    }


def _headers(scope, sort: str) -> dict:
    """For each sortable column: the address of its next order and the arrow to show."""
    headers = {}
    for key, first in SORTABLE.items():
        if sort.lstrip("-") == key:
            target = key if sort.startswith("-") else f"-{key}"
            arrow = "▼" if sort.startswith("-") else "▲"
        else:
            target, arrow = first, ""
        params = {SORT_PARAM: target if target != DEFAULT_USER_SORT else ""}
        headers[key] = {
            "fragment": scope.url("usage:users", **params),
            "page": scope.profile_url("usage-users", **params),
            "arrow": arrow,
        }
    return headers


def users_panel(request, account) -> dict:
    """The end users panel's context: nothing to show (and no query) without usage."""
    scope = scope_for(request, account)
    if not scope.has_usage:
        return {"scope": scope, "account": account}
    sort = user_sort(request.GET.get(SORT_PARAM))
    people = end_users_by_activity(scope.workspace, scope.ids, sort)
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get(PAGE_PARAM))
    time_zone = scope.workspace.time_zone
    rows = [_row(person, time_zone) for person in page.object_list]
    sort_param = sort if sort != DEFAULT_USER_SORT else ""
    links = {}
    for name, number in (
        ("previous", page.previous_page_number() if page.has_previous() else None),
        ("next", page.next_page_number() if page.has_next() else None),
    ):
        if number is not None:
            params = {SORT_PARAM: sort_param, PAGE_PARAM: number}
            links[name] = {
                "fragment": scope.url("usage:users", **params),
                "page": scope.profile_url("usage-users", **params),
            }
    return {
        "scope": scope,
        "account": account,
        "page": page,
        "rows": rows,
        "sort": sort,
        "headers": _headers(scope, sort),
        "links": links,
    }


@member_required
@require_GET
def users_fragment(request, account_id: int):
    """The end users panel for another page or order (htmx); the profile otherwise."""
    account = account_for(request, account_id)
    scope = scope_for(request, account)
    if not request.htmx:
        params = {k: request.GET.get(k, "") for k in (SORT_PARAM, PAGE_PARAM)}
        return redirect(scope.profile_url("usage-users", **params))
    response = render(
        request, "usage/users_panel.html#body", {"panel": users_panel(request, account)}
    )
    patch_vary_headers(response, ("HX-Request",))
    return response
