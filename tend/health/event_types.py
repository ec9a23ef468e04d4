"""Events the health app emits (tend/events/registry.py)."""

from tend.events.registry import register

register(
    "health.rank_changed",
    "Health rank changed",
    group="Health",
    description="An account's health rank changed (good, average, poor; null when unscored).",
    example={"account": {"id": 17}, "from_rank": "good", "to_rank": "poor", "score": 31.5},
)
