"""Polling triggers: for each active play of a workspace, read what happened since its
cursor, start runs, and store the new cursor with a conditional update (so two pollers
racing store it once; the occurrence keys make any re-read harmless)."""

import logging

from django.db import transaction
from django.utils import timezone

from tend.plays import triggers
from tend.plays.engine import start_runs
from tend.plays.models import Play, PlayStatus

log = logging.getLogger("tend.plays")
MAX_ROUNDS = 20


def poll_play(play: Play, now=None) -> dict:
    """Poll one play's trigger until it has caught up (or ``MAX_ROUNDS`` batches)."""
    now = now or timezone.now()
    kind, config = triggers.config_of(play)
    totals = {"started": 0, "skipped": 0, "duplicate": 0}
    if not kind.polled:
        return totals
    stored = play.trigger_cursor
    held = False  # a row too young to pass was met: the stored cursor stays behind it
    for _ in range(MAX_ROUNDS):
        result = kind.poll(play, config, now)
        with transaction.atomic():
            counts = start_runs(play, result.occurrences, now) if result.occurrences else {}
            fields = {"polled_at": now}
            if result.cursor is not None and not held:
                settled = result.cursor if result.settled is None else result.settled
                fields["trigger_cursor"] = settled
                held = settled != result.cursor
            if result.state is not None:
                fields["trigger_state"] = result.state
            moved = Play.objects.filter(
                pk=play.pk, status=PlayStatus.ACTIVE, trigger_cursor=stored
            ).update(**fields)
            if not moved:
                # Another poller moved the cursor first (or the play stopped): let it go on.
                return totals
        stored = fields.get("trigger_cursor", stored)
        for key, value in counts.items():
            totals[key] += value
        if result.state is not None:
            play.trigger_state = result.state
        play.polled_at = now
        # The next round reads on from where this one stopped, whatever was stored.
        play.trigger_cursor = result.cursor if result.cursor is not None else stored
        if not result.more:
            break
    play.trigger_cursor = stored
    return totals


def poll_workspace(workspace) -> dict:
    totals = {"started": 0, "skipped": 0, "duplicate": 0}
    for play in Play.objects.filter(workspace=workspace, status=PlayStatus.ACTIVE).select_related(
        "workspace"
    ):
        try:
            counts = poll_play(play)
        except Exception:  # one broken play must not hold up the others; the job log shows it
            log.exception("polling play %s failed", play.pk)
            continue
        for key, value in counts.items():
            totals[key] += value
    return totals
