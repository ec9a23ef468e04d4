"""Health's full-table exports (``tend.lib.datasets``): each account's health now, and its
history — a snapshot on each local day its health changed (the state on any other day is
the latest snapshot on or before it)."""

from collections.abc import Iterator

from tend.health.models import AccountHealth, HealthSnapshot
from tend.lib import datasets
from tend.lib.datasets import Column, Dataset
from tend.lib.dates import date_of

CHUNK = 5_000

CURRENT_COLUMNS = [
    Column("account_id", "int"),
    Column("account_external_id", "text"),
    Column("profile", "text"),
    Column("rank", "text"),
    Column("score", "float"),
    Column("dimensions", "json"),
    Column("rank_since", "datetime"),
    Column("computed_at", "datetime"),
]


def current_rows(workspace, columns) -> Iterator[list]:
    rows = AccountHealth.objects.filter(workspace=workspace).order_by("account_id")
    fields = (
        "account_id", "account__external_id", "profile__name", "rank", "score", "dimensions",
        "rank_since", "computed_at",
    )  # fmt: skip
    for values in rows.values_list(*fields).iterator(chunk_size=CHUNK):
        yield list(values)


HISTORY_COLUMNS = [
    Column("account_id", "int"),
    Column("account_external_id", "text"),
    Column("date", "date"),
    Column("rank", "text"),
    Column("score", "float"),
    Column("dimensions", "json"),
]


def history_rows(workspace, columns) -> Iterator[list]:
    rows = HealthSnapshot.objects.filter(workspace=workspace).order_by("day", "account_id")
    fields = ("account_id", "account__external_id", "day", "rank", "score", "dimensions")
    for values in rows.values_list(*fields).iterator(chunk_size=CHUNK):
        row = list(values)
        row[2] = date_of(row[2])
        yield row


def register() -> None:
    datasets.register(
        Dataset(
            "health_current",
            "Health now",
            "Each account's health profile, rank, score and dimension scores now.",
            lambda workspace: list(CURRENT_COLUMNS),
            current_rows,
            position=40,
        )
    )
    datasets.register(
        Dataset(
            "health_history",
            "Health history",
            "An account's rank, score and dimension scores on each day they changed.",
            lambda workspace: list(HISTORY_COLUMNS),
            history_rows,
            position=41,
        )
    )
