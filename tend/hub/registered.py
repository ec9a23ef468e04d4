"""Importable records of apps below the hub in the import layers (they cannot register
themselves), registered by the hub: usage day totals and custom metric values, written
through ``tend.usage.actions.imports``, and assignments, through
``tend.accounts.actions.assignments``."""

from tend.accounts.actions.assignments import import_assignments
from tend.hub.models import ImportObject
from tend.hub.objects import Record, register
from tend.usage.actions.imports import day_key, import_metric_values, import_usage_days

ACCOUNT_WORDS = (
    "account",
    "account id",
    "account external id",
    "account key",
    "company id",
    "customer id",
    "external id",
)
DATE_WORDS = ("date", "day", "usage date", "event date", "activity date", "metric date")


def _usage_key(cells: list[str]) -> str:
    account, user, date, activity, module = cells
    return f"{account.strip()}\x1f{user.strip()}\x1f{day_key(date)}\x1f{activity.strip()}\x1f{module.strip()}"


def _metric_key(cells: list[str]) -> str:
    account, metric, date = cells
    return f"{account.strip()}\x1f{metric.strip()}\x1f{day_key(date)}"


USAGE = Record(
    name=ImportObject.USAGE,
    fields={
        "account_external_id": ("Account (external id)", ACCOUNT_WORDS),
        "user_external_id": (
            "End user (external id)",
            ("user", "user id", "end user", "end user id", "user external id", "user key"),
        ),
        "date": ("Date (YYYY-MM-DD)", DATE_WORDS),
        "activity": ("Activity", ("activity", "event", "event name", "feature", "action")),
        "module": ("Module", ("module", "product area", "area", "feature area")),
        "count": (
            "Events (count)",
            ("count", "events", "event count", "total", "number of events", "occurrences"),
        ),
        "seconds": (
            "Time spent (seconds)",
            ("seconds", "duration", "time spent", "duration seconds", "time spent seconds"),
        ),
    },
    required=("account_external_id", "date", "activity", "count"),
    key=("account_external_id", "user_external_id", "date", "activity", "module"),
    key_of=_usage_key,
    write=import_usage_days,
    about=(
        "Each row is one day's total of one activity for an account (or one of its end users). "
        "Its count replaces what earlier imports said for the same account, end user, day, "
        "activity and module — importing a file twice counts it once — and adds to the events "
        "counted from the event log. Accounts and end users must exist."
    ),
    chunk_factor=5,
)

METRIC = Record(
    name=ImportObject.METRIC,
    fields={
        "account_external_id": ("Account (external id)", ACCOUNT_WORDS),
        "metric": ("Metric (key)", ("metric", "metric key", "metric name", "kpi", "dimension")),
        "date": ("Date (YYYY-MM-DD)", DATE_WORDS),
        "value": ("Value", ("value", "metric value", "amount", "number")),
    },
    required=("account_external_id", "metric", "date", "value"),
    key=("account_external_id", "metric", "date"),
    key_of=_metric_key,
    write=import_metric_values,
    about=(
        "Each row is one account's value of a custom metric on one day; it replaces the value "
        "stored for that day. A metric key met for the first time creates the metric."
    ),
    chunk_factor=5,
)

register(USAGE)
register(METRIC)

ASSIGNMENTS = Record(
    name=ImportObject.ASSIGNMENT,
    fields={
        "account_external_id": ("Account (external id)", ACCOUNT_WORDS),
        "role": ("Role (key or name)", ("role", "assignment role", "role key", "role name")),
        "member": (
            "Member (email)",
            ("member", "email", "member email", "owner", "csm", "user email", "assignee"),
        ),
    },
    required=("account_external_id", "role"),
    key=("account_external_id", "role"),
    key_of=lambda cells: "\x1f".join((cells[0].strip(), cells[1].strip().lower())),
    write=import_assignments,
    about=(
        "Each row says who holds a role (CSM, account executive …) on an account: the member "
        "replaces the role's current holder, and a blank member removes the assignment."
    ),
)

register(ASSIGNMENTS)
