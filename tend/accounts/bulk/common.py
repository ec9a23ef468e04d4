"""What every bulk upsert shares: the result, per-item errors, duplicate keys, chunked reads."""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.conf import settings

from tend.accounts.actions.accounts import clean_external_id
from tend.accounts.bulk.sql import select_by_keys
from tend.lib.errors import InvalidInput

CREATED, UPDATED, UNCHANGED, ERROR = "created", "updated", "unchanged", "error"
# Keys per ``IN (…)`` list of an ORM query: Django's SQLite backend allows 999 variables.
CHUNK = 900


@dataclass
class BulkResult:
    results: list[dict]
    counts: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"results": self.results, "counts": self.counts}


def chunks(values: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class Batch:
    """The items of one request and the errors found in them so far."""

    def __init__(self, items):
        if not isinstance(items, list):
            raise InvalidInput("body", "expected a JSON array of objects")
        limit = settings.TEND_BULK_MAX_ITEMS
        if len(items) > limit:
            raise InvalidInput("body", f"has {len(items)} items; the limit is {limit} per request")
        self.items = items
        self.errors: dict[int, list[dict]] = defaultdict(list)
        self.external_ids: list[str | None] = [None] * len(items)

    def fail(self, index: int, field: str, message: str) -> None:
        self.errors[index].append({"field": field, "message": message})

    def fail_all(self, index: int, errors: Iterable[dict]) -> None:
        self.errors[index].extend(errors)

    def ok(self, index: int) -> bool:
        return index not in self.errors

    def index_keys(self) -> dict[str, int]:
        """Check each item's shape and external id; return external id → index of the valid ones.

        Items sharing an external id are all errors, each naming the others' indexes, since
        no order between them would be the obvious one to keep.
        """
        positions: dict[str, list[int]] = defaultdict(list)
        for index, item in enumerate(self.items):
            if not isinstance(item, dict):
                self.fail(index, "item", "expected an object")
                continue
            try:
                key = clean_external_id(item.get("external_id"))
            except InvalidInput as exc:
                self.fail(index, exc.field, exc.message)
                continue
            self.external_ids[index] = key
            positions[key].append(index)
        for key, indexes in positions.items():
            if len(indexes) > 1:
                for index in indexes:
                    others = ", ".join(str(i) for i in indexes if i != index)
                    self.fail(
                        index,
                        "external_id",
                        f"{key!r} also appears at index {others} of this request",
                    )
        return {key: indexes[0] for key, indexes in positions.items() if len(indexes) == 1}

    def result(self, statuses: dict[int, str], ids: dict[int, int]) -> BulkResult:
        results = []
        counts = {CREATED: 0, UPDATED: 0, UNCHANGED: 0, ERROR: 0}
        for index in range(len(self.items)):
            entry = {"index": index, "external_id": self.external_ids[index]}
            if index in self.errors:
                entry["status"] = ERROR
                entry["errors"] = self.errors[index]
                counts[ERROR] += 1
            else:
                status = statuses[index]
                entry["status"] = status
                entry["id"] = ids[index]
                counts[status] += 1
            results.append(entry)
        return BulkResult(results=results, counts=counts)


def load_by_external_id(
    model, workspace, keys: Iterable[str], fields: Sequence[str]
) -> dict[str, tuple]:
    """Rows of ``model`` in ``workspace`` whose external id is in ``keys``: external id → tuple
    of ``fields`` (attnames, starting with ``external_id``), read in statements as large as the
    database allows (see :mod:`tend.accounts.bulk.sql`)."""
    return select_by_keys(model, workspace.id, keys, fields)
