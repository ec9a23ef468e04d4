"""Events the segments app emits (tend/events/registry.py)."""

from tend.events.registry import register

_EXAMPLE = {"account": {"id": 17}, "segment": {"id": 3}, "source": "condition"}

register(
    "segment.entered",
    "Segment entered",
    group="Segments",
    description="An account entered a segment: it now meets the conditions, or was added.",
    example=_EXAMPLE,
)
register(
    "segment.left",
    "Segment left",
    group="Segments",
    description="An account left a segment: it no longer meets the conditions, or was removed.",
    example=_EXAMPLE,
)
