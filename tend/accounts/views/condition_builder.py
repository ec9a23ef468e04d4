"""The condition builder's two requests, shared by every page that shows a builder
(``templates/accounts/condition_builder.html``):

* **redraw** — after a structural edit (a row or group added or removed, a field or operator
  picked, "not" toggled, JSON ↔ rows), the builder drawn again from the posted form;
* **count** — as the person types (htmx, debounced): how many accounts the condition
  matches now, and every row's error under that row (out-of-band swaps, so rows without a
  problem are cleared too).

Neither writes anything: reading the workspace's accounts is enough, so every member may.
The page hosting the builder names it with ``cb-prefix``; the inputs carry that prefix.
"""

import re

from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.views.decorators.http import require_POST

from tend.accounts import condition_builder as cb
from tend.accounts.conditions import account_catalog, count_accounts
from tend.accounts.models import Account
from tend.accounts.views.accounts.common import member_required
from tend.lib.conditions import validate

PREFIX = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


def _prefix(request) -> str | None:
    prefix = request.POST.get("cb-prefix", "")
    return prefix if PREFIX.match(prefix) else None


def _count_url(request) -> str | None:
    """The count address the page gave its builder, if it is one of ours (a count view)."""
    url = request.POST.get("cb-count", "")
    if not url.startswith("/") or url.startswith("//"):
        return None
    try:
        match = resolve(url.split("?")[0])
    except Resolver404:
        return None
    return url if match.url_name == "condition_count" else None


@member_required
@require_POST
def builder_redraw(request):
    prefix = _prefix(request)
    if prefix is None:
        return HttpResponseBadRequest("cb-prefix: expected a builder's name")
    catalog = account_catalog(request.actor.workspace)
    builder = cb.read(request.POST, prefix, catalog)
    cb.apply(builder, request.POST.get(f"{prefix}-op", ""), catalog)
    return render(
        request,
        "accounts/condition_builder.html",
        {"cb": cb.view(builder, catalog, actor=request.actor, count_url=_count_url(request))},
    )


def count_context(builder: cb.Builder, draft: cb.Draft, errors: dict, count, total: int) -> dict:
    """What ``accounts/condition_count.html`` shows: the count (None when the condition has
    problems), and every row's slot — its errors, a hint for a row waiting for its value, or
    nothing, which clears what an earlier count showed."""
    slots = [""]
    if builder.mode == "builder":
        slots += [node_id for node_id, _node in cb.walk(builder.root)]
    pending = set(draft.pending)
    return {
        "prefix": builder.prefix,
        "count": count,
        "total": total,
        "unconditioned": draft.condition is None and not draft.error,
        "pending": len(pending),
        "slots": [
            {
                "id": node_id,
                "messages": errors.get(node_id, []),
                "hint": "Choose a value to use this condition." if node_id in pending else "",
            }
            for node_id in slots
        ],
    }


def draft_errors(builder: cb.Builder, draft: cb.Draft, catalog) -> dict[str, list[str]]:
    """The errors of a draft by row (the JSON box's, or validation's)."""
    if draft.error:
        return {"": [f"The condition {draft.error}"]}
    if draft.condition is None:
        return {}
    return cb.node_errors(builder, draft, validate(draft.condition, catalog))


@member_required
@require_POST
def builder_count(request):
    prefix = _prefix(request)
    if prefix is None:
        return HttpResponseBadRequest("cb-prefix: expected a builder's name")
    workspace = request.actor.workspace
    catalog = account_catalog(workspace)
    builder = cb.read(request.POST, prefix, catalog)
    draft = cb.to_condition(builder, catalog, partial=True)
    errors = draft_errors(builder, draft, catalog)
    total = Account.objects.filter(workspace=workspace).count()
    count = None
    if not errors:
        count = total
        if draft.condition is not None:
            count = count_accounts(workspace, draft.condition, catalog=catalog)
    context = count_context(builder, draft, errors, count, total)
    return render(request, "accounts/condition_count.html", context)
