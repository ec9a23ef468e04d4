"""Telling upper apps, as soon as a transaction commits, that it wrote change rows
(``SegmentChange``, ``HealthChange``, ``StageChange``, ``AttributeChange``) or events.

Lower apps cannot import upper ones (DESIGN: imports run one way); the rows themselves say
what happened, and upper apps poll them. This only shortens the wait: a writer calls
:func:`announce` inside its transaction, and after the commit every listener (plays asks
for a poll of the workspace's triggers) runs. A listener's failure is logged, never raised
into the writer: the periodic poll catches up anyway.
"""

import logging
from collections.abc import Callable

from django.db import transaction

log = logging.getLogger("tend.changes")
_listeners: dict[str, Callable[[int], None]] = {}


def listen(key: str, listener: Callable[[int], None]) -> None:
    """Register ``listener(workspace_id)``; by key, so registering again replaces."""
    _listeners[key] = listener


def announce(workspace_id: int) -> None:
    """After the current transaction commits, tell the listeners about ``workspace_id``."""
    if _listeners:
        transaction.on_commit(lambda: _notify(workspace_id))


def _notify(workspace_id: int) -> None:
    for key, listener in list(_listeners.items()):
        try:
            listener(workspace_id)
        except Exception:
            log.exception("change listener %s failed for workspace %s", key, workspace_id)
