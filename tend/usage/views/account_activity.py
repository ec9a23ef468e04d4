"""The activity stream of an account: what its end users did, newest first.

On the profile the panel shows the latest events with filters by end user and module;
"Load more" fetches the next page by cursor (``queries.recent_events``: keyset on event
time and id, so pages never overlap or skip however many events arrive meanwhile) and
appends it in place. The same address without htmx is a page of its own, where "Older"
links walk the same cursors.
"""

from django import forms
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from tend.accounts.views.accounts.common import account_for, member_required
from tend.lib.errors import InvalidInput
from tend.usage.display import duration, exact_time, stream_time
from tend.usage.queries import modules_for_filter, recent_events, users_for_filter
from tend.usage.views.account_scope import scope_for

PANEL_SIZE = 15
PAGE_SIZE = 50


class ActivityFilters(forms.Form):
    """The stream's query string: who, which module, and where the page starts."""

    user = forms.IntegerField(required=False, min_value=1, label="End user")
    module = forms.CharField(required=False, max_length=200, label="Module")
    cursor = forms.CharField(required=False, max_length=500)


def _rows(events, scope) -> list[dict]:
    time_zone = scope.workspace.time_zone
    return [
        {
            "event": event,
            "time": stream_time(event.ts, time_zone),
            "exact": exact_time(event.ts, time_zone),
            "user": event.end_user,
            "duration": duration(event.duration),
        }
        for event in events
    ]


def stream(request, account, *, size: int, strict: bool, full_page: bool = False) -> dict:
    """The stream's context: filters, one page of events and the next page's address.

    ``strict``: a bad filter raises :class:`InvalidInput` naming it (the stream's own
    address answers 400); on the profile a bad value is ignored instead.
    """
    scope = scope_for(request, account)
    if not scope.has_usage:
        return {"scope": scope, "account": account}
    form = ActivityFilters(request.GET)
    if not form.is_valid() and strict:
        field, errors = next(iter(form.errors.items()))
        raise InvalidInput(field, " ".join(errors))
    values = {k: v for k, v in getattr(form, "cleaned_data", {}).items() if k not in form.errors}
    user_id, module = values.get("user"), values.get("module") or None
    page = recent_events(
        scope.workspace,
        account_ids=scope.ids,
        end_user_id=user_id,
        module=module,
        cursor=(values.get("cursor") or None) if strict else None,
        limit=size,
    )
    filters = {"user": user_id or "", "module": module or ""}
    users = users_for_filter(scope.workspace, scope.ids, include=user_id)
    more = None
    if page.next_cursor:
        more = {
            "fragment": scope.url("usage:activity", **filters, cursor=page.next_cursor, size=size),
            "page": scope.url("usage:activity", **filters, cursor=page.next_cursor),
        }
    return {
        "scope": scope,
        "account": account,
        "rows": _rows(page.events, scope),
        "more": more,
        "filters": filters,
        "is_filtered": bool(user_id or module),
        "users": users,
        "selected_user": next((u for u in users if u.pk == user_id), None),
        "modules": modules_for_filter(scope.workspace, scope.ids, scope.today),
        "size": size,
        "full_page": full_page,
        "stream_url": scope.url("usage:activity"),
        "clear_url": scope.url("usage:activity", size="" if full_page else size),
        "page_url": scope.url("usage:activity", **filters),
        "starts_later": strict and bool(values.get("cursor")),
    }


def activity_panel(request, account) -> dict:
    return stream(request, account, size=PANEL_SIZE, strict=False)


@member_required
@require_GET
def activity(request, account_id: int):
    """htmx: the next rows (with a cursor) or the filtered stream; otherwise a whole page."""
    account = account_for(request, account_id)
    in_panel = bool(request.htmx) and request.GET.get("size") == str(PANEL_SIZE)
    try:
        context = stream(
            request,
            account,
            size=PANEL_SIZE if in_panel else PAGE_SIZE,
            strict=True,
            full_page=not in_panel,
        )
    except InvalidInput as exc:
        return HttpResponseBadRequest(f"{exc.field}: {exc.message}", content_type="text/plain")
    if request.htmx and not request.htmx.boosted:
        # Load more: the next rows. A filter: the results under the form, which stays put.
        # Clear filters: the form too.
        if request.GET.get("cursor"):
            partial = "rows"
        elif request.htmx.target == "activity-results":
            partial = "results"
        else:
            partial = "body"
        response = render(request, f"usage/activity_panel.html#{partial}", {"panel": context})
    else:
        response = render(request, "usage/activity.html", {"panel": context, "account": account})
    patch_vary_headers(response, ("HX-Request",))
    return response
