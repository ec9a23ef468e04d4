"""Importable records: the objects other than accounts, end users and contacts that a file
can hold — usage day totals, custom metric values, tasks, touchpoints, assignments.

Each is *registered* by the app that owns its data, with its fields and its write path, so
the data hub runs the same upload, mapping, dry run, resumable job and report for all of
them without importing those apps (``tend.work`` sits above the hub in the import layers:
it registers its objects from its ``AppConfig.ready``). Usage, metrics and assignments sit below the hub,
which registers them itself (``tend/hub/registered.py``).

A record has no attributes and no single external id: its **key** is a few of its fields
together (for usage: account, end user, date, activity and module). Rows sharing a key in a
file are all rejected, as for accounts. Its ``write`` takes a chunk of items — the mapped
cells as text, blank cells included, field → text — and answers one entry per item, in
order: ``{"status": "created" | "updated" | "unchanged"}`` (optionally ``"shown"``: field →
the value as stored, for the preview) or ``{"status": "error", "errors": [{"field",
"message"}]}``. It is called inside the hub's chunk transaction, which also moves the
import's resume point, so it must not commit or open transactions of its own that outlive
it; a dry run calls it too, in a savepoint that is rolled back.

Accounts, end users and contacts keep their own path (``tend.hub.mapping`` and
``tend.hub.running``): attributes, sources of truth and parent links are theirs alone.
"""

from collections.abc import Callable
from dataclasses import dataclass

Write = Callable[..., list[dict]]
# Between the parts of a record's key (a character no file's cell means as text).
KEY_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Record:
    name: str  # an ImportObject value
    # field → (label, the header words that suggest it)
    fields: dict[str, tuple[str, tuple[str, ...]]]
    required: tuple[str, ...]
    key: tuple[str, ...]
    # write(actor, items, source=…) → entries (see the module docstring)
    write: Write
    # What a row does, for the mapping page (one sentence).
    about: str = ""
    # Turns the key fields' cells (in ``key`` order) into the key duplicates are found by;
    # by default the stripped cells.
    key_of: Callable[[list[str]], str] | None = None
    # The import's chunk is TEND_IMPORT_CHUNK × this: light rows go in bigger chunks.
    chunk_factor: int = 1

    def row_key(self, cells: list[str]) -> str:
        if self.key_of is not None:
            return self.key_of(cells)
        return KEY_SEPARATOR.join(c.strip() for c in cells)


_registry: dict[str, Record] = {}


def register(record: Record) -> None:
    _registry[record.name] = record


def record(name: str) -> Record | None:
    """The registered record object called ``name``, or None (accounts, end users, contacts)."""
    return _registry.get(name)


def registered() -> dict[str, Record]:
    return dict(_registry)
