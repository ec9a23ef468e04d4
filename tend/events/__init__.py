"""Events: what happened in a workspace, recorded with the change, for outgoing webhooks.

A low layer, so every app above can emit: ``emit(workspace_id, "task.created", data)``
inside the action's transaction. Types are declared in each app's ``event_types.py``
(:mod:`tend.events.registry`). Consumers (``tend.webhooks``) register with
:func:`tend.events.actions.add_consumer`.
"""


def emit(workspace_id, type, data, *, at=None):
    from tend.events.actions import emit as _emit

    return _emit(workspace_id, type, data, at=at)


def emit_many(workspace_id, items, *, at=None):
    from tend.events.actions import emit_many as _emit_many

    return _emit_many(workspace_id, items, at=at)
