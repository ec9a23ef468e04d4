"""``/plays/<id>/dry-run/``: what a play — draft or not — would do now: the accounts its
trigger would fire for, whether each passes the condition and the run policy, and what each
step would do (task titles rendered, email recipients, field changes). A page at a time;
every account is counted. Writes nothing, so every member may look."""

import math

from django.shortcuts import render
from django.views.decorators.http import require_GET

from tend.accounts.views.accounts.common import member_required
from tend.plays import steps, triggers
from tend.plays.explain import dry_run
from tend.plays.queries import get_play, run_now_segments
from tend.workspaces.access import WRITE

PAGE = 20


def _page_number(raw) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


@member_required
@require_GET
def play_dry_run(request, play_id: int):
    actor = request.actor
    play = get_play(actor, play_id)
    number = _page_number(request.GET.get("page"))
    result = dry_run(play, limit=PAGE, offset=(number - 1) * PAGE)
    pages = max(1, math.ceil(result["triggered"] / PAGE))
    if number > pages:
        number = pages
        result = dry_run(play, limit=PAGE, offset=(number - 1) * PAGE)
    labels = {k: s.label for k, s in steps.kinds().items()}
    for item in result["items"]:
        for step in item.get("steps", ()):
            step["label"] = labels.get(step["kind"], step["kind"])
    kind, _config = triggers.config_of(play)
    return render(
        request,
        "plays/dry_run.html",
        {
            "play": play,
            "result": result,
            "trigger_label": kind.label,
            "number": number,
            "pages": pages,
            "first_shown": (number - 1) * PAGE + 1,
            "last_shown": (number - 1) * PAGE + len(result["items"]),
            "stopped": result["triggered"] - result["would_run"],
            "can_edit": actor.can(WRITE),
            "run_segments": run_now_segments(actor, play),
        },
    )
