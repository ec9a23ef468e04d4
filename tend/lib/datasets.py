"""Full-table exports ("datasets") that apps offer for data warehouses and one-off downloads.

The data hub lists datasets and streams them (``tend.hub.exports``), but the tables belong
to apps in other layers — end users to accounts, usage days to usage, health history to
health — so each app registers its datasets here from its ``AppConfig.ready``, and the hub
reads the registry without importing them.

A dataset gives, for one workspace, its typed columns and an iterator of rows (lists of
plain values in column order), read in a bounded number of queries and streamed: a
million rows never sit in memory at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

# Column types: what a Parquet column is written as (CSV and XLSX take the values as they
# are). "json" is a value serialised as JSON text.
TYPES = ("int", "float", "text", "bool", "date", "datetime", "json")


@dataclass(frozen=True)
class Column:
    key: str
    type: str

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"column {self.key}: unknown type {self.type!r}")


@dataclass(frozen=True)
class Dataset:
    key: str  # in URLs and file names: "end_users"
    label: str
    description: str
    # The workspace's columns (attribute columns differ between workspaces).
    columns: Callable[[object], list[Column]]
    # Rows for the workspace, in those columns' order.
    rows: Callable[[object, Sequence[Column]], Iterator[Sequence]]
    position: int = 100


_datasets: dict[str, Dataset] = {}


def register(dataset: Dataset) -> None:
    """Add (or, by key, replace) a dataset."""
    _datasets[dataset.key] = dataset


def datasets() -> list[Dataset]:
    return sorted(_datasets.values(), key=lambda d: (d.position, d.label))


def get(key: str) -> Dataset | None:
    return _datasets.get(key)
