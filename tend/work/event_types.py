"""Events the work app emits (tend/events/registry.py)."""

from tend.events.registry import register

TASK = {
    "id": 42,
    "account": {"id": 17},
    "title": "Call Acme about the renewal",
    "status": "open",
    "priority": "normal",
    "due_date": "2026-12-01",
    "assignee_id": 5,
    "source": "ui",
}

register(
    "task.created",
    "Task created",
    group="Tasks",
    description="A task was created by a person, a play or the API.",
    example={"task": TASK},
)
register(
    "task.completed",
    "Task completed",
    group="Tasks",
    description="A task was marked done.",
    example={"task": {**TASK, "status": "done"}},
)
