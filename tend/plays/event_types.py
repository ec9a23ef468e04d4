"""Events the plays app emits (tend/events/registry.py)."""

from tend.events.registry import register

register(
    "play.step_failed",
    "Play step failed",
    group="Plays",
    description="A play run stopped because one of its steps failed for good.",
    example={
        "play": {"id": 4, "name": "Onboarding"},
        "run": {"id": 991},
        "account": {"id": 17},
        "step": {"position": 2, "kind": "call_webhook"},
        "reason": "gave up after 5 attempts: 503 Service Unavailable",
    },
)
