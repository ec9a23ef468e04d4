"""Asking for a trigger poll right after a lower app commits change rows or events
(``tend.lib.changes``), so a single change reaches a play's first step in a second or two
instead of waiting for the 5-second scheduler entry.

Cheap on the hot paths (ingestion announces every request): the set of workspaces with an
active polled play is cached per process for a few seconds, and a poll already queued for
the workspace absorbs the request (the job's unique key).
"""

import time

from django_scopes import scopes_disabled

from tend.jobs.registry import enqueue

POLL_JOB = "plays.poll_workspace"
CACHE_SECONDS = 5.0
_cache: dict = {"at": 0.0, "workspaces": frozenset()}


def _active_workspaces() -> frozenset:
    now = time.monotonic()
    if now - _cache["at"] > CACHE_SECONDS:
        from tend.plays.models import Play, PlayStatus

        with scopes_disabled():
            ids = Play.objects.filter(status=PlayStatus.ACTIVE).exclude(trigger_kind="manual")
            _cache["workspaces"] = frozenset(ids.values_list("workspace_id", flat=True).distinct())
        _cache["at"] = now
    return _cache["workspaces"]


def forget_cache() -> None:
    """Activating or pausing a play changes the set: read it again at the next change."""
    _cache["at"] = 0.0


def changes_committed(workspace_id: int) -> None:
    if workspace_id in _active_workspaces():
        enqueue(POLL_JOB, {"workspace_id": workspace_id}, workspace_id=workspace_id, unique_key=f"{POLL_JOB}:{workspace_id}")
