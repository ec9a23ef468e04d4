"""Building and changing a play in the browser, and its status changes.

* ``/plays/new/`` and ``/plays/<id>/edit/`` — the editor (``tend.plays.editor`` reads the
  form): structural edits (a step added, removed or moved, another trigger kind, a
  condition builder's row) post the whole form and get it back redrawn, htmx swapping it in
  place, a plain post without JavaScript; saving goes through the actions, whose errors come
  back beside the input they name (422), with everything typed kept.
* ``/plays/preview/`` — a task's, email's or Slack message's templates rendered for a
  sample account, as the dry run describes the step. Writes nothing.
* ``/plays/<id>/status/`` — activate (asking about backfill the first time), pause, resume,
  archive.
* ``/plays/<id>/run/`` — run an active play now for a segment's members or accounts named
  by external id, as ``POST /api/v1/plays/{id}/run`` does.

Changing plays needs the write right (admin and practitioner seats); other seats get 403,
another workspace's play 404.
"""

import re

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from tend.accounts.conditions import account_catalog
from tend.accounts.models import Account
from tend.accounts.views.accounts.common import member_required
from tend.lib.errors import InvalidInput
from tend.plays import editor, steps
from tend.plays.actions import create_play, run_play_now, set_status, update_play
from tend.plays.engine import account_context
from tend.plays.models import Play, PlayStatus
from tend.plays.queries import get_play
from tend.segments.views.common import go
from tend.workspaces.access import WRITE

SAMPLES = 200  # accounts offered as preview samples (any other can be typed)


def _samples(actor) -> list[tuple[str, str]]:
    return list(
        Account.objects.filter(workspace=actor.workspace)
        .order_by("name", "pk")
        .values_list("external_id", "name")[:SAMPLES]
    )


def _render(request, play, state, sources, catalog, errors=None, status=200, sample=None):
    samples = _samples(request.actor)
    context = {
        "play": play,
        **editor.view(state, sources, catalog, errors),
        "samples": samples,
        "sample": sample if sample is not None else (samples[0][0] if samples else ""),
        "action": reverse("plays:edit", args=[play.pk]) if play else reverse("plays:new"),
    }
    return render(request, "plays/editor.html", context, status=status)


def _form(request, play: Play | None):
    actor = request.actor
    sources = editor.Sources(actor)
    catalog = account_catalog(actor.workspace)
    if request.method == "GET":
        if play is not None:
            state = editor.from_play(play, sources)
        else:
            state = editor.State(owner_id=str(actor.member.pk) if actor.member else "")
            kind = request.GET.get("step")
            editor.new_step(state, kind if kind in steps.kinds() else "create_task", sources)
        return _render(request, play, state, sources, catalog)
    data = request.POST
    state = editor.from_post(data, sources, catalog)
    sample = data.get("sample", "")
    op = data.get("op", "")
    if op or editor.builder_op(state, data):
        editor.apply(state, op, data, sources, catalog)
        return _render(request, play, state, sources, catalog, sample=sample)
    built = editor.build(state, sources, catalog)
    try:
        if built.error is not None:
            raise built.error
        if play is None:
            saved = create_play(actor, built.data)
        else:
            saved = update_play(actor, play, built.data)
    except InvalidInput as exc:
        errors = editor.place(exc, state, built)
        return _render(request, play, state, sources, catalog, errors, status=422, sample=sample)
    messages.success(request, f"Saved “{saved.name}”.")
    if data.get("then") == "dry_run":
        return go(request, reverse("plays:dry_run", args=[saved.pk]))
    return go(request, reverse("plays:detail", args=[saved.pk]))


@member_required
@require_http_methods(["GET", "POST"])
def play_new(request):
    request.actor.require(WRITE)
    return _form(request, None)


@member_required
@require_http_methods(["GET", "POST"])
def play_edit(request, play_id: int):
    play = get_play(request.actor, play_id, WRITE)
    if play.status == PlayStatus.ARCHIVED:
        messages.error(request, "An archived play cannot be changed.")
        return go(request, reverse("plays:detail", args=[play.pk]))
    return _form(request, play)


@member_required
@require_POST
def step_preview(request):
    """One step's templates rendered for the sample account, as the dry run would show
    them; the step's own checks first (an error names its input)."""
    actor = request.actor
    actor.require(WRITE)
    sid = request.POST.get("preview", "")
    sources = editor.Sources(actor)
    catalog = account_catalog(actor.workspace)
    state = editor.from_post(request.POST, sources, catalog)
    step = state.step(sid)
    if step is None or step.kind not in steps.kinds():
        return HttpResponseBadRequest("preview: expected a step of the form")
    index = state.steps.index(step)
    built = editor.build(state, sources, catalog)
    context = {"sid": sid}
    sample = request.POST.get("sample", "").strip()
    account = (
        Account.objects.filter(workspace=actor.workspace, external_id=sample)
        .select_related("workspace", "stage")
        .first()
        if sample
        else None
    )
    kind = steps.get(step.kind)
    try:
        raw = built.data["steps"][index]
        config = steps.clean_step(step.kind, raw["config"], actor.workspace, f"steps.{index}")
        parsed = steps.parse_config(kind, config, "config")
    except InvalidInput as exc:
        found = editor.place(exc, state, built)
        context["problems"] = (
            [
                f"{_label(step.kind, place.removeprefix(sid + '-'), sources)}: {m}"
                if place != sid
                else m
                for place, msgs in found.fields.items()
                for m in msgs
            ]
            + found.general
            + [m for rows in found.builders.values() for ms in rows.values() for m in ms]
        )
        return render(request, "plays/_preview.html", context)
    if account is None:
        context["problems"] = [
            f"No account has external id “{sample}”."
            if sample
            else "Choose a sample account to preview against."
        ]
        return render(request, "plays/_preview.html", context)
    described = kind.describe(parsed, account_context(account, timezone.now()))
    context.update(account=account, described=described, kind=step.kind)
    return render(request, "plays/_preview.html", context)


def _label(kind_name: str, name: str, sources) -> str:
    for item in editor.inputs(kind_name, steps.get(kind_name).Config, sources):
        if item.name == name:
            return item.label
    return name


STATUS_WORDS = {
    PlayStatus.ACTIVE: "activated",
    PlayStatus.PAUSED: "paused",
    PlayStatus.ARCHIVED: "archived",
}


@member_required
@require_POST
def play_status(request, play_id: int):
    """Activate (``backfill`` yes/no the first time), pause, resume or archive; back to the
    play with what happened, or why not."""
    actor = request.actor
    play = get_play(actor, play_id, WRITE)
    status = request.POST.get("status", "")
    backfill = {"yes": True, "no": False}.get(request.POST.get("backfill", ""))
    was = play.status
    try:
        result = set_status(actor, play, status, backfill=backfill)
    except InvalidInput as exc:
        field = {
            "backfill": "Choose whether to run it for accounts already matching",
            "steps": "Add a step first",
        }.get(exc.field)
        messages.error(
            request,
            f"Not {STATUS_WORDS.get(status, 'changed')}: {exc.message}."
            + (f" {field}." if field and field not in exc.message else ""),
        )
        return go(request, reverse("plays:detail", args=[play.pk]))
    words = (
        "resumed"
        if status == PlayStatus.ACTIVE and was == PlayStatus.PAUSED
        else STATUS_WORDS.get(status, status)
    )
    text = f"“{play.name}” {words}."
    counts = result.get("backfill")
    if counts is not None:
        started = counts.get("started", 0)
        text += (
            f" Started {started:,} run{'' if started == 1 else 's'} for accounts already matching"
        )
        skipped = counts.get("skipped", 0)
        text += f" ({skipped:,} skipped by the condition or run policy)." if skipped else "."
    elif status == PlayStatus.ACTIVE and was == PlayStatus.DRAFT:
        text += " It runs for new occurrences of its trigger from now on."
    messages.success(request, text)
    return go(request, reverse("plays:detail", args=[play.pk]))


RUN_NOW_PASTE_LIMIT = 500  # external ids pasted at once, as the API's MAX_MANUAL


@member_required
@require_POST
def play_run_now(request, play_id: int):
    """Run an active play now for a segment's members and/or pasted external ids (one per
    line or separated by commas); back to the play with how many runs started, and each
    external id that names no account."""
    actor = request.actor
    play = get_play(actor, play_id, WRITE)
    raw_segment = request.POST.get("segment", "").strip()
    external_ids = [k for k in re.split(r"[\s,;]+", request.POST.get("external_ids", "")) if k]
    if raw_segment and not raw_segment.isdigit():
        messages.error(request, "Not run: choose a segment from the list.")
        return go(request, reverse("plays:detail", args=[play.pk]))
    try:
        result = run_play_now(
            actor,
            play,
            external_ids=external_ids[: RUN_NOW_PASTE_LIMIT + 1],
            segment_id=int(raw_segment) if raw_segment else None,
        )
    except InvalidInput as exc:
        reason = exc.message
        if exc.field == "account_ids" and not external_ids and not raw_segment:
            reason = "choose a segment or paste external ids"
        messages.error(request, f"Not run: {reason}.")
        return go(request, reverse("plays:detail", args=[play.pk]))
    counts = result["counts"]
    started, skipped = counts.get("started", 0), counts.get("skipped", 0)
    text = f"Started {started:,} run{'' if started == 1 else 's'} of “{play.name}”"
    text += f" ({skipped:,} skipped by the condition or run policy)." if skipped else "."
    messages.success(request, text)
    unknown = [e["message"] for e in result["errors"]]
    if unknown:
        shown = "; ".join(unknown[:10]) + (f"; and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        messages.warning(request, f"Not run for {len(unknown)}: {shown}.")
    return go(request, reverse("plays:detail", args=[play.pk]))
