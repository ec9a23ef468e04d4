"""Usage's full-table exports (``tend.lib.datasets``): the daily rollups per account, per
end user and per activity — what a warehouse joins with its own data. Days are the
workspace's local days, as everywhere in usage."""

from collections.abc import Iterator, Sequence

from tend.lib import datasets
from tend.lib.datasets import Column, Dataset
from tend.lib.dates import date_of
from tend.usage.models import AccountActivityDay, AccountDay, UserDay

CHUNK = 5_000


def _fixed(columns: list[Column]):
    return lambda workspace: list(columns)


def _stream(queryset, fields: Sequence[str], day_at: int) -> Iterator[list]:
    """Rows of ``fields`` in a single pass (a server-side cursor on PostgreSQL), with the
    day number at ``day_at`` turned into its date."""
    for values in queryset.values_list(*fields).iterator(chunk_size=CHUNK):
        row = list(values)
        row[day_at] = date_of(row[day_at])
        yield row


ACCOUNT_DAY_COLUMNS = [
    Column("account_id", "int"),
    Column("account_external_id", "text"),
    Column("date", "date"),
    Column("events", "int"),
    Column("seconds", "float"),
]


def account_day_rows(workspace, columns) -> Iterator[list]:
    days = AccountDay.objects.filter(workspace=workspace).order_by("day", "account_id")
    return _stream(days, ("account_id", "account__external_id", "day", "events", "seconds"), 2)


USER_DAY_COLUMNS = [
    Column("account_id", "int"),
    Column("account_external_id", "text"),
    Column("end_user_id", "int"),
    Column("end_user_external_id", "text"),
    Column("date", "date"),
    Column("events", "int"),
    Column("seconds", "float"),
]


def user_day_rows(workspace, columns) -> Iterator[list]:
    days = UserDay.objects.filter(workspace=workspace).order_by("day", "account_id", "end_user_id")
    fields = (
        "account_id", "account__external_id", "end_user_id", "end_user__external_id", "day",
        "events", "seconds",
    )  # fmt: skip
    return _stream(days, fields, 4)


ACTIVITY_DAY_COLUMNS = [
    Column("account_id", "int"),
    Column("account_external_id", "text"),
    Column("date", "date"),
    Column("activity", "text"),
    Column("module", "text"),
    Column("events", "int"),
    Column("seconds", "float"),
]


def activity_day_rows(workspace, columns) -> Iterator[list]:
    days = AccountActivityDay.objects.filter(workspace=workspace).order_by(
        "day", "account_id", "activity", "module"
    )
    fields = (
        "account_id",
        "account__external_id",
        "day",
        "activity",
        "module",
        "events",
        "seconds",
    )
    return _stream(days, fields, 2)


def register() -> None:
    for dataset in (
        Dataset(
            "usage_account_days",
            "Usage per account and day",
            "Events and time spent per account and local day.",
            _fixed(ACCOUNT_DAY_COLUMNS),
            account_day_rows,
            position=30,
        ),
        Dataset(
            "usage_user_days",
            "Usage per end user and day",
            "Events and time spent per end user (and their account) and local day.",
            _fixed(USER_DAY_COLUMNS),
            user_day_rows,
            position=31,
        ),
        Dataset(
            "usage_activity_days",
            "Usage per activity and day",
            "Events and time spent per account, activity, module and local day.",
            _fixed(ACTIVITY_DAY_COLUMNS),
            activity_day_rows,
            position=32,
        ),
    ):
        datasets.register(dataset)
