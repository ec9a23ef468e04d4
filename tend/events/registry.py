"""The catalogue of event types: what an app can tell the outside world happened.

An app declares its types in its own ``event_types.py`` (discovered at startup)::

    from tend.events.registry import register

    register("task.created", "Task created", group="Tasks",
             description="A task was created, by a person, a play or the API.",
             example={"task": {"id": 42, "title": "Call Acme", ...}})

and emits them from its actions with :func:`tend.events.emit`. Subscribers (outgoing
webhooks) list the catalogue to let an admin choose; an unknown type cannot be emitted or
subscribed to. Keys are ``noun.verb_past`` in lower case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_KEY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")


@dataclass(frozen=True)
class EventType:
    key: str
    label: str
    group: str
    description: str
    example: dict = field(default_factory=dict)


_types: dict[str, EventType] = {}


class UnknownEventType(LookupError):
    pass


def register(
    key: str, label: str, *, group: str, description: str, example: dict | None = None
) -> EventType:
    if not _KEY.fullmatch(key):
        raise ValueError(f"event type {key!r} is not lower-case dotted words (account.created)")
    existing = _types.get(key)
    event_type = EventType(key, label, group, description, example or {})
    if existing is not None and existing != event_type:
        raise ValueError(f"event type {key!r} is already registered differently")
    _types[key] = event_type
    return event_type


def get(key: str) -> EventType:
    try:
        return _types[key]
    except KeyError:
        raise UnknownEventType(f"no event type is registered as {key!r}") from None


def all_types() -> list[EventType]:
    """Every registered type, by group, then in the order its app declared them."""
    return sorted(_types.values(), key=lambda t: t.group)


def type_keys() -> frozenset[str]:
    return frozenset(_types)
