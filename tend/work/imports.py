"""Tasks and touchpoints as importable records of the data hub (Data → Imports). The hub
sits below work in the import layers, so work registers them (from ``WorkConfig.ready``)
through the hub's registry, with the write paths of ``tend.work.actions.imports``."""

from tend.hub.models import ImportObject
from tend.hub.objects import Record, register
from tend.work.actions.imports import import_tasks, import_touchpoints

ACCOUNT_WORDS = (
    "account",
    "account id",
    "account external id",
    "account key",
    "company id",
    "customer id",
)

TASKS = Record(
    name=ImportObject.TASK,
    fields={
        "external_id": ("External id (key)", ("external id", "id", "task id", "key")),
        "account_external_id": ("Account (external id)", ACCOUNT_WORDS),
        "title": ("Title", ("title", "task", "subject", "name")),
        "description": ("Description", ("description", "details", "notes")),
        "type": ("Type", ("type", "task type")),
        "priority": ("Priority", ("priority",)),
        "due_date": ("Due date (YYYY-MM-DD)", ("due date", "due", "due on", "deadline")),
        "assignee": (
            "Assignee (member's email)",
            ("assignee", "owner", "assigned to", "assignee email"),
        ),
        "status": ("Status (open, done, cancelled)", ("status", "state")),
    },
    required=("external_id", "account_external_id"),
    key=("external_id",),
    write=import_tasks,
    about=(
        "Each row is a task on an account, keyed by its external id: a known id is updated "
        "with the row's non-blank cells, a new one created (a title is needed then)."
    ),
)

TOUCHPOINTS = Record(
    name=ImportObject.TOUCHPOINT,
    fields={
        "external_id": (
            "External id (key)",
            ("external id", "id", "touchpoint id", "activity id", "key"),
        ),
        "account_external_id": ("Account (external id)", ACCOUNT_WORDS),
        "subject": ("Subject", ("subject", "title", "summary")),
        "type": ("Type (key)", ("type", "touchpoint type", "kind")),
        "occurred_at": (
            "Occurred at (ISO date or date and time)",
            ("occurred at", "date", "when", "happened at", "timestamp"),
        ),
        "body": ("Body", ("body", "notes", "content", "description", "text")),
        "sentiment": ("Sentiment (positive, neutral, negative)", ("sentiment", "mood")),
    },
    required=("external_id", "account_external_id"),
    key=("external_id",),
    write=import_touchpoints,
    about=(
        "Each row is a touchpoint (a call, a meeting, an email …) on an account, keyed by its "
        "external id: a known id is updated with the row's non-blank cells, a new one created "
        "(a subject is needed then)."
    ),
)


def register_all() -> None:
    register(TASKS)
    register(TOUCHPOINTS)
