"""Helpers shared by the wire-format parsers (``segment.py``, ``totango.py``, ``planhat.py``).

NUL characters: JSON may carry ``\\u0000`` and a query string ``%00``, but PostgreSQL stores
NUL in neither text nor ``jsonb``. One such item would fail the whole request's transaction
with a 500, and a client that retries 5xx would send the same batch forever. So an item
holding a NUL is refused alone, with a reason, before anything is stored.
"""

from tend.usage.ingest.facts import Reason, Refused

# How a NUL appears in a JSON body; its absence (one scan of the body) spares the per-item walk.
NUL_ESCAPE = b"\\u0000"


def has_nul(value) -> bool:
    """Whether any text in ``value`` (keys included) holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return False


def refuse_nul(field: str) -> Refused:
    return Refused(
        Reason.INVALID_FIELD,
        field,
        "contains a NUL character (\\u0000), which cannot be stored: remove it from the text",
    )
