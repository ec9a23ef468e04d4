"""Play runs on the account timeline: one query a page (see ``tend.accounts.timeline``).
Skipped runs — triggered, but the condition or the run policy said no — are the play's
execution log's business, not the account's story, so they are left out."""

from django.urls import reverse

from tend.accounts.timeline import TimelineItem, TimelineSource, add_timeline_source, before
from tend.plays.models import PlayRun, RunStatus

TONES = {RunStatus.FAILED: "bad", RunStatus.DONE: "good"}


def _link(item) -> None:
    item.url = reverse("plays:detail", args=[item.data["play_id"]])


def play_run_items(actor, account, cursor, limit, member):
    rows = (
        PlayRun.objects.filter(workspace=actor.workspace, account=account)
        .exclude(status=RunStatus.SKIPPED)
        .filter(before(cursor, "play_run", "started_at"))
        .select_related("play")
        .only("play__name", "status", "cause", "reason", "started_at")
        .order_by("-started_at", "-id")
    )
    items = []
    for run in rows[:limit]:
        detail = f"{run.get_status_display().lower()} · {run.cause}"
        if run.status == RunStatus.FAILED and run.reason:
            detail += f" · {run.reason}"
        items.append(
            TimelineItem(
                source="play_run",
                kind="play_run",
                at=run.started_at,
                id=run.pk,
                title=f"Play: {run.play.name}",
                detail=detail,
                finish=_link,
                tone=TONES.get(run.status, ""),
                data={
                    "play_id": run.play_id,
                    "play": run.play.name,
                    "run_id": run.pk,
                    "status": run.status,
                    "cause": run.cause,
                },
            )
        )
    return items


def register() -> None:
    add_timeline_source(
        TimelineSource("play_run", "Play runs", play_run_items, by_member=False, position=30)
    )
