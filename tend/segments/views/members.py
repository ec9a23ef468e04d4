"""Adding accounts to a static segment by hand and removing them, on the segment's page.

* **find** — accounts of the workspace not in the segment yet, by name or external id, each
  with an Add button (htmx, as the person types);
* **add** — one account (the Add button) or many at once, pasted as external ids one per
  line: ``add_accounts`` answers per item, and the page says what became of each one it
  could not add;
* **remove** — the Remove button of a member's row.

Each answers with the segment's page again (a full navigation after htmx, so the page's
counts and history follow), its message on top.

Every change goes through ``tend.segments.actions`` (the history records the member who
made it) and needs the right to change the segment.
"""

import re

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from tend.accounts.models import Account
from tend.accounts.views.accounts.common import member_required
from tend.lib.errors import InvalidInput
from tend.segments.actions import add_accounts, remove_accounts
from tend.segments.queries import members_of
from tend.segments.views.common import go, segment_for

FOUND = 8
SEPARATORS = re.compile(r"[\r\n,;\t]+")


@member_required
@require_GET
def find_accounts(request, segment_id: int):
    segment = segment_for(request, segment_id, edit=True)
    q = (request.GET.get("q") or "").strip()[:200]
    found = []
    if q:
        found = list(
            Account.objects.filter(workspace=request.actor.workspace)
            .filter(Q(name__icontains=q) | Q(external_id__icontains=q))
            .exclude(pk__in=members_of(segment).values("account_id"))
            .order_by("name", "id")
            .only("id", "name", "external_id", "status")[:FOUND]
        )
    context = {"segment": segment, "q": q, "found": found}
    return render(request, "segments/_found.html", context)


@member_required
@require_POST
def add_member(request, segment_id: int):
    segment = segment_for(request, segment_id, edit=True)
    account_ids = [v for v in request.POST.getlist("account_id") if v.isdigit()]
    external_ids = [v.strip() for v in SEPARATORS.split(request.POST.get("external_ids", ""))]
    external_ids = [v for v in external_ids if v]
    detail = reverse("segments:detail", kwargs={"segment_id": segment.pk})
    try:
        result = add_accounts(
            request.actor,
            segment,
            account_ids=[int(v) for v in account_ids],
            external_ids=external_ids,
        )
    except InvalidInput as exc:
        messages.error(request, f"Nothing was added: {exc.message}.")
        return go(request, detail)
    added = result.counts.get("added", 0)
    already = result.counts.get("already_member", 0)
    problems = [r for r in result.results if r["status"] == "error"]
    parts = [f"Added {added:,} account{'' if added == 1 else 's'}"]
    if already:
        parts.append(f"{already:,} {'was' if already == 1 else 'were'} in it already")
    messages.success(request, "; ".join(parts) + ".")
    if problems:
        shown = "; ".join(r["message"] for r in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        messages.error(
            request,
            f"{len(problems):,} could not be added: {shown}{more}.",
        )
    return go(request, detail)


@member_required
@require_POST
def remove_member(request, segment_id: int):
    segment = segment_for(request, segment_id, edit=True)
    account_ids = [int(v) for v in request.POST.getlist("account_id") if v.isdigit()]
    try:
        result = remove_accounts(request.actor, segment, account_ids=account_ids)
    except InvalidInput as exc:
        messages.error(request, f"Nothing was removed: {exc.message}.")
    else:
        removed = result.counts.get("removed", 0)
        messages.success(request, f"Removed {removed:,} account{'' if removed == 1 else 's'}.")
    return go(request, reverse("segments:detail", kwargs={"segment_id": segment.pk}))
