"""Asking for an alert poll right after a lower app commits change rows or events
(``tend.lib.changes``), as plays do: cached set of workspaces with an active rule, and a
queued poll job absorbs repeats (its unique key)."""

import time

from django_scopes import scopes_disabled

from tend.jobs.registry import enqueue

POLL_JOB = "alerts.poll_workspace"
CACHE_SECONDS = 5.0
_cache: dict = {"at": 0.0, "workspaces": frozenset()}


def _active_workspaces() -> frozenset:
    now = time.monotonic()
    if now - _cache["at"] > CACHE_SECONDS:
        from tend.alerts.models import AlertRule

        with scopes_disabled():
            ids = AlertRule.objects.filter(is_active=True)
            _cache["workspaces"] = frozenset(ids.values_list("workspace_id", flat=True).distinct())
        _cache["at"] = now
    return _cache["workspaces"]


def forget_cache() -> None:
    _cache["at"] = 0.0


def enqueue_poll(workspace_id: int) -> None:
    enqueue(
        POLL_JOB,
        {"workspace_id": workspace_id},
        workspace_id=workspace_id,
        unique_key=f"{POLL_JOB}:{workspace_id}",
    )


def changes_committed(workspace_id: int) -> None:
    if workspace_id in _active_workspaces():
        enqueue_poll(workspace_id)
