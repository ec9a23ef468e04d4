"""The plays pages: the list (status, trigger, last run, counts) and a
play (its trigger, condition, steps and run policy, the execution log newest first with each
step's result, and a why-not box for one account)."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tend.accounts import condition_builder as cb
from tend.accounts.conditions import account_catalog
from tend.accounts.models import Account
from tend.accounts.views.accounts.common import member_required
from tend.plays import steps, triggers
from tend.plays.explain import why_not
from tend.plays.models import PlayRunStep, PlayStatus, PlayStep
from tend.plays.queries import get_play, plays_with_counts, run_now_segments, runs_of
from tend.segments.models import Segment
from tend.workspaces.access import WRITE
from tend.workspaces.models import Member

LIST_PAGE = 50
LOG_PAGE = 50


def readable(config: dict, actor) -> str:
    """A config as ``key: value · …``, naming segments rather than giving their ids."""
    parts = []
    for key, value in (config or {}).items():
        if value in ("", None, [], {}):
            continue
        if key.endswith("member_id") or key == "to_members":
            ids = value if isinstance(value, list) else [value]
            names = {
                m.pk: m.name
                for m in Member.objects.filter(
                    workspace=actor.workspace, pk__in=ids
                ).select_related("user")
            }
            shown = ", ".join(names.get(pk, f"#{pk} (gone)") for pk in ids)
            parts.append(f"{key.removesuffix('_id').replace('_', ' ')}: {shown}")
        elif key == "segment_id":
            name = (
                Segment.objects.filter(workspace=actor.workspace, pk=value)
                .values_list("name", flat=True)
                .first()
            )
            parts.append(f"segment: {name or f'#{value} (deleted)'}")
        elif key == "condition":
            parts.append(
                "condition: "
                + cb.describe(value, account_catalog(actor.workspace), cb.Options(actor))
            )
        else:
            parts.append(f"{key.replace('_', ' ')}: {value}")
    return " · ".join(parts)


def _int_page(request) -> str:
    return request.GET.get("page") or "1"


@member_required
@require_GET
def play_list(request):
    actor = request.actor
    plays = plays_with_counts(actor).order_by("name", "id")
    status = request.GET.get("status")
    if status in PlayStatus.values:
        plays = plays.filter(status=status)
    page = Paginator(plays, LIST_PAGE).get_page(_int_page(request))
    labels = {k: t.label for k, t in triggers.kinds().items()}
    rows = [{"play": p, "trigger": labels.get(p.trigger_kind, p.trigger_kind)} for p in page]
    total = plays_with_counts(actor).count() if status else page.paginator.count
    return render(
        request,
        "plays/list.html",
        {
            "rows": rows,
            "page": page,
            "status": status,
            "statuses": PlayStatus.choices,
            "total": total,
            "can_edit": actor.can(WRITE),
        },
    )


@member_required
@require_GET
def play_detail(request, play_id: int):
    actor = request.actor
    play = get_play(actor, play_id)
    kind, _config = triggers.config_of(play)
    runs = runs_of(play).order_by("-id")
    page = Paginator(runs, LOG_PAGE).get_page(_int_page(request))
    run_list = list(page)
    logs: dict[int, list] = {}
    for entry in PlayRunStep.objects.filter(run__in=[r.pk for r in run_list]).order_by(
        "started_at", "id"
    ):
        logs.setdefault(entry.run_id, []).append(entry)
    answer, asked, missing = None, request.GET.get("account", "").strip(), False
    if asked:
        account = (
            Account.objects.filter(workspace=actor.workspace, external_id=asked)
            .select_related("workspace", "stage")
            .first()
        )
        if account is None:
            missing = True
        else:
            answer = why_not(play, account)
    condition_words = ""
    if play.condition:
        condition_words = cb.describe(
            play.condition, account_catalog(actor.workspace), cb.Options(actor)
        )
    step_rows = [
        {
            "step": s,
            "label": steps.get(s.kind).label if s.kind in steps.kinds() else s.kind,
            "config": readable(steps.shown_config(s.kind, s.config, actor), actor),
        }
        for s in PlayStep.objects.filter(play=play).order_by("position")
    ]
    return render(
        request,
        "plays/detail.html",
        {
            "play": play,
            "trigger_label": kind.label,
            "steps": step_rows,
            "trigger_config": readable(play.trigger_config, actor),
            "runs": [{"run": r, "log": logs.get(r.pk, [])} for r in run_list],
            "page": page,
            "why": answer,
            "asked": asked,
            "missing": missing,
            "condition_words": condition_words,
            "can_edit": actor.can(WRITE),
            "run_segments": run_now_segments(actor, play),
        },
    )
