"""The column cache: a workspace's accounts held per process as NumPy columns, so that a
condition over a million accounts is counted in milliseconds (``tend.lib.conditions.vectors``).

The database stays the reference. :func:`match_ids` answers only when every clause of the
condition is one the columns evaluate, the cache is enabled (``TEND_SEGMENT_CACHE``) and
the connection is in autocommit; otherwise it returns None and the caller runs the compiled
query, as it always did.

**Freshness.** Every write to the tables conditions read (accounts, ``AccountUsage``,
``AccountHealth``) is stamped by database triggers in the writing transaction
(``tend.accounts.stamps``). An entry remembers the *mark* it is fresh up to. Before each
answer, under the process's lock:

1. read the current mark (SQLite: the workspace's ``ConditionVersion``; PostgreSQL: the
   oldest transaction still running, ``pg_snapshot_xmin`` − 1) — everything committed at
   that point is stamped at most the mark, anything committed later above it;
2. read the accounts stamped above the entry's mark, and reload exactly those accounts'
   rows (every column held) — or rebuild the entry when they are many;
3. keep the new mark.

So an answer never comes from data older than what was committed when the evaluation
began: a write committed before step 1 is either in the entry already or reloaded in
step 2. Rows read later than the mark may be newer still, which is harmless — their stamps
are above the mark and they are read again next time. Inside a transaction (``atomic``)
the cache is not used: the entry would be filled from writes a rollback may undo.

**Cold entries.** Building an entry reads every account's ids and the columns a condition
needs: about a second at 100,000 accounts, 13–31 s at 1,000,000 — far longer than the
compiled query it replaces. So when the entry (or a column the condition needs) is not held
and the workspace has more than ``TEND_SEGMENT_CACHE_INLINE_ACCOUNTS`` accounts (20,000),
:func:`match_ids` returns None at once (the caller runs the compiled query) and a builder
thread — one per workspace per process, on its own connection, closed when it ends — reads
the entry and installs it; later calls use it. A builder takes its mark before it reads
anything, like every build, so what is written meanwhile is reloaded by the next refresh. A
builder that fails logs the error and leaves the compiled query answering; the next call
starts another. Smaller workspaces are built inline (a fifth of a second at 20,000), and
``TEND_SEGMENT_CACHE_BACKGROUND = False`` builds everything inline (tests, benchmarks).

**Memory.** Columns are loaded lazily, a database column at a time (the JSON attributes
once for every attribute field), and entries are dropped least recently used first once
they hold more than ``TEND_SEGMENT_CACHE_MB``. Each process has its own cache; the stamps
keep every one of them right on its own.
"""

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Model
from django_scopes import scopes_disabled

from tend.accounts.models import Account
from tend.accounts.stamps import STAMPS, VERSIONS
from tend.lib.conditions import Catalog, FieldSpec, fields_used, vectors
from tend.lib.conditions.operators import OPERATORS
from tend.lib.conditions.tree import parse, walk_leaves

CHUNK = 5_000
# More changed accounts than this share of the workspace: read everything again.
REBUILD_SHARE = 0.2
REBUILD_AT_LEAST = 20_000

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """Rows of a table holding at most one row per account: ``key`` names the account."""

    model: type[Model]
    key: str


_sources: dict[str, Source] = {"account": Source(Account, "id")}


def add_column_source(name: str, model: type[Model], key: str) -> None:
    """Let an upper app name a table its fields' ``column`` reads (usage, health)."""
    _sources[name] = Source(model, key)


def _signature(spec: FieldSpec) -> tuple:
    return (spec.column, spec.type, spec.storage, spec.ids)


def _stored(spec: FieldSpec, raw):
    """What ``spec.get`` returns, from the raw database value of ``spec.column``."""
    key = spec.column[2]
    if key is None:
        return raw
    return raw.get(key) if isinstance(raw, dict) else None


@dataclass
class Entry:
    workspace_id: int
    mark: int
    ids: np.ndarray  # the workspace's account ids, sorted
    alive: np.ndarray  # False for an id whose account was deleted since
    specs: dict[str, FieldSpec] = field(default_factory=dict)
    columns: dict[str, vectors.Column] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)  # fields a value of cannot be held exactly
    loaded: set[tuple[str, str]] = field(default_factory=set)  # (source, database column)
    # (account id, source) → version of the stamps above ``mark`` whose rows were read.
    applied: dict[tuple[int, int], int] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        held = self.ids.nbytes + self.alive.nbytes
        return held + sum(c.nbytes for c in self.columns.values())

    def positions(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions, found) of ``ids`` in the entry."""
        positions = np.searchsorted(self.ids, ids)
        inside = positions < len(self.ids)
        found = np.zeros(len(ids), dtype=bool)
        found[inside] = self.ids[positions[inside]] == ids[inside]
        return positions, found


_lock = threading.Lock()
_entries: "OrderedDict[int, Entry]" = OrderedDict()


def enabled() -> bool:
    return bool(getattr(settings, "TEND_SEGMENT_CACHE", True))


def inline_limit() -> int:
    """Workspaces of at most this many accounts are built inline, larger ones by a builder
    thread (unless ``TEND_SEGMENT_CACHE_BACKGROUND`` is off)."""
    if not getattr(settings, "TEND_SEGMENT_CACHE_BACKGROUND", True):
        return -1
    return int(getattr(settings, "TEND_SEGMENT_CACHE_INLINE_ACCOUNTS", 20_000))


def clear() -> None:
    """Forget every entry (tests; a database restored under a running process). A builder
    still running installs its entry when it ends: :func:`wait_for_builders` first."""
    with _lock:
        _entries.clear()


def usable() -> bool:
    return (
        enabled()
        and not connection.in_atomic_block
        and connection.vendor in ("sqlite", "postgresql")
    )


def cacheable(condition, catalog: Catalog) -> bool:
    """Whether every clause of a valid ``condition`` names a field with a column and an
    operator the columns evaluate (no change filter)."""
    tree, errors = parse(condition)
    if errors:
        return False
    for leaf in walk_leaves(tree):
        spec = catalog.get(leaf.field)
        if spec is None or spec.column is None or OPERATORS[leaf.op].is_change:
            return False
    return True


def match_ids(workspace_id: int, condition, catalog: Catalog, now) -> np.ndarray | None:
    """The sorted ids of the accounts ``condition`` (valid) holds for, fresh as of the call;
    None when the cache cannot answer (see the module docstring), or not yet (a cold entry
    of a large workspace: a builder thread is reading it)."""
    if not usable() or not cacheable(condition, catalog):
        return None
    specs = [catalog[name] for name in fields_used(condition)]
    with _lock:
        try:
            entry = _fresh_entry(workspace_id)
            if entry is None:
                if _large(workspace_id):
                    _start_builder(workspace_id, specs, catalog)
                    return None
                entry = _build(workspace_id)
            _entries[workspace_id] = entry
            _entries.move_to_end(workspace_id)
            if len(entry.ids) > inline_limit() >= 0 and not all(
                _held(entry, spec) for spec in specs
            ):
                _start_builder(workspace_id, specs, catalog, entry)
                return None
            columns = {}
            for spec in specs:
                column = _column(entry, spec, catalog)
                if column is None:
                    return None
                columns[spec.name] = column
        except BaseException:
            # A refresh or a load cut short (a database error) may leave the entry half
            # changed: forget it, the next call builds it again.
            _entries.pop(workspace_id, None)
            raise
        found = vectors.match(condition, columns, len(entry.ids), now)
        _evict()
        return None if found is None else entry.ids[found & entry.alive]


def match_ids_uncached(workspace_id: int, condition, catalog: Catalog, now) -> np.ndarray | None:
    """:func:`match_ids` from columns read just now and kept nowhere, in a transaction or
    not (the agreement tests compare it with the compiled query and the pure evaluator)."""
    if not cacheable(condition, catalog):
        return None
    entry = _build(workspace_id)
    columns = {}
    for name in fields_used(condition):
        column = _column(entry, catalog[name], catalog)
        if column is None:
            return None
        columns[name] = column
    found = vectors.match(condition, columns, len(entry.ids), now)
    return None if found is None else entry.ids[found & entry.alive]


def count(workspace_id: int, condition, catalog: Catalog, now) -> int | None:
    ids = match_ids(workspace_id, condition, catalog, now)
    return None if ids is None else len(ids)


# --- Builders: cold entries of large workspaces read in the background --------------------

_builders_lock = threading.Lock()
_builders: dict[int, threading.Thread] = {}


def building(workspace_id: int) -> bool:
    with _builders_lock:
        return workspace_id in _builders


def wait_for_builders(timeout: float | None = None) -> bool:
    """Wait for the builder threads running now (tests, benchmarks); False if one still runs."""
    with _builders_lock:
        threads = list(_builders.values())
    for thread in threads:
        thread.join(timeout)
    return not any(thread.is_alive() for thread in threads)


def _large(workspace_id: int) -> bool:
    """Whether the workspace has more accounts than are built inline (a bounded count)."""
    limit = inline_limit()
    if limit < 0:
        return False
    if building(workspace_id):
        return True
    with scopes_disabled():
        found = Account.objects.filter(workspace_id=workspace_id).order_by()[: limit + 1].count()
    return found > limit


def _held(entry: Entry, spec: FieldSpec) -> bool:
    """Whether ``entry`` holds the column of ``spec`` (or knows it cannot)."""
    known = entry.specs.get(spec.name)
    return (
        known is not None
        and _signature(known) == _signature(spec)
        and (spec.name in entry.columns or spec.name in entry.broken)
    )


def _start_builder(
    workspace_id: int, specs: list[FieldSpec], catalog: Catalog, entry: Entry | None = None
) -> None:
    """Start the workspace's builder thread unless one runs: it reads a new entry holding the
    columns of ``specs`` and those ``entry`` (the one held) holds, and installs it."""
    held = entry.specs.items() if entry is not None else ()
    fields = {name: spec for name, spec in held if name in entry.columns}
    fields.update((spec.name, spec) for spec in specs)
    siblings = dict(fields)
    siblings.update(catalog.items())
    with _builders_lock:
        if workspace_id in _builders:
            return
        thread = threading.Thread(
            target=_builder,
            args=(workspace_id, list(fields.values()), siblings),
            name=f"tend-columns-{workspace_id}",
            daemon=True,
        )
        _builders[workspace_id] = thread
        thread.start()


def _builder(workspace_id: int, specs: list[FieldSpec], catalog) -> None:
    try:
        with scopes_disabled():
            entry = _build_entry(workspace_id, specs, catalog)
        with _lock:
            _entries[workspace_id] = entry
            _entries.move_to_end(workspace_id)
            _evict()
    except Exception:
        log.exception("column cache: building workspace %s failed", workspace_id)
    finally:
        connection.close()
        with _builders_lock:
            _builders.pop(workspace_id, None)


def _build_entry(workspace_id: int, specs: list[FieldSpec], catalog) -> Entry:
    """A new entry of the workspace holding the columns of ``specs`` (its mark taken first)."""
    entry = _build(workspace_id)
    for spec in specs:
        _column(entry, spec, catalog)
    return entry


def _evict() -> None:
    limit = getattr(settings, "TEND_SEGMENT_CACHE_MB", 512) * 1024 * 1024
    total = sum(e.nbytes for e in _entries.values())
    while len(_entries) > 1 and total > limit:
        _key, oldest = _entries.popitem(last=False)
        total -= oldest.nbytes
    if total > limit:
        _entries.clear()


# --- Marks and stamps -------------------------------------------------------------------


def current_mark(workspace_id: int) -> int:
    """Every write committed now is stamped at most this; any committed later, above it."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1")
        else:
            cursor.execute(
                f"SELECT version FROM {VERSIONS} WHERE workspace_id = %s",  # noqa: S608
                [workspace_id],
            )
        row = cursor.fetchone()
    return row[0] if row else 0


def stamps_since(workspace_id: int, mark: int) -> list[tuple[int, int, int]]:
    """``(account id, source, version)`` of the stamps above ``mark``."""
    with connection.cursor() as cursor:
        cursor.execute(
            # No DISTINCT: SQLite would read the whole (account, source) key to apply it,
            # rather than the range of the (workspace, version) index.
            f"SELECT account_id, source, version FROM {STAMPS} "  # noqa: S608
            "WHERE workspace_id = %s AND version > %s",
            [workspace_id, mark],
        )
        return cursor.fetchall()


# --- Building and refreshing ------------------------------------------------------------


def _build(workspace_id: int) -> Entry:
    mark = current_mark(workspace_id)
    ids = np.fromiter(
        Account.objects.filter(workspace_id=workspace_id)
        .order_by("id")
        .values_list("id", flat=True)
        .iterator(chunk_size=20_000),
        dtype=np.int64,
    )
    return Entry(workspace_id, mark, ids, np.ones(len(ids), dtype=bool))


def _fresh_entry(workspace_id: int) -> Entry | None:
    """The workspace's entry refreshed to the current mark; None when there is none, or it
    must be read again (the caller builds it, inline or in the background)."""
    entry = _entries.get(workspace_id)
    if entry is None:
        return None
    mark = current_mark(workspace_id)
    if mark < entry.mark:  # the counter went back (a database restored): start again
        _entries.pop(workspace_id, None)
        return None
    stamps = stamps_since(workspace_id, entry.mark)
    # A stamp already applied (same row, same version) was committed when it was read, and
    # its rows were read after: only the others need reading again. On PostgreSQL the mark
    # trails the oldest transaction running anywhere in the cluster, so the same stamps come
    # back until it ends.
    fresh = [s for s in stamps if entry.applied.get((s[0], s[1])) != s[2]]
    changed = np.unique(np.array([s[0] for s in fresh], dtype=np.int64))
    if len(changed) > max(REBUILD_AT_LEAST, REBUILD_SHARE * len(entry.ids)):
        _entries.pop(workspace_id, None)
        return None
    if len(changed):
        _reload(entry, changed)
    entry.applied = {(s[0], s[1]): s[2] for s in stamps if s[2] > mark}
    entry.mark = mark
    return entry


def _rows(source: Source, workspace_id: int, columns: list[str], ids=None) -> Iterable[tuple]:
    rows = source.model.objects.filter(workspace_id=workspace_id)
    if ids is None:
        yield from rows.order_by().values_list(source.key, *columns).iterator(chunk_size=20_000)
        return
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK].tolist()
        yield from rows.filter(**{f"{source.key}__in": chunk}).values_list(source.key, *columns)


def _reload(entry: Entry, changed: np.ndarray) -> None:
    """Read the rows of the ``changed`` accounts again, for every column held."""
    _, found = entry.positions(changed)
    if not found.all():  # accounts created since: add them, keep the ids sorted
        new = changed[~found]
        size = len(entry.ids) + len(new)
        entry.ids = np.concatenate([entry.ids, new])
        entry.alive = np.concatenate([entry.alive, np.zeros(len(new), dtype=bool)])
        for column in entry.columns.values():
            column.grow(size)
        order = np.argsort(entry.ids, kind="stable")
        entry.ids = entry.ids[order]
        entry.alive = entry.alive[order]
        for column in entry.columns.values():
            column.take(order)
    positions, _ = entry.positions(changed)
    at = dict(zip(changed.tolist(), positions.tolist(), strict=True))
    held: dict[str, list[str]] = {}
    for source_name, db_column in entry.loaded:
        held.setdefault(source_name, []).append(db_column)
    held.setdefault("account", [])
    for source_name, db_columns in held.items():
        rows = {
            row[0]: row[1:]
            for row in _rows(_sources[source_name], entry.workspace_id, db_columns, changed)
        }
        if source_name == "account":
            for pk, position in at.items():
                entry.alive[position] = pk in rows
        for name, spec in list(entry.specs.items()):
            if spec.column[0] != source_name or name not in entry.columns:
                continue
            index = db_columns.index(spec.column[1])
            column = entry.columns[name]
            for pk, position in at.items():
                row = rows.get(pk)
                stored = None if row is None else _stored(spec, row[index])
                if not column.set(position, spec.read(stored, None)):
                    _drop(entry, name)
                    break


def _drop(entry: Entry, name: str) -> None:
    entry.columns.pop(name, None)
    entry.broken.add(name)


def _column(entry: Entry, spec: FieldSpec, catalog: Catalog) -> vectors.Column | None:
    """The column of ``spec`` in ``entry``, loaded now if it is not held yet (with every
    field of ``catalog`` read from the same database column); None if it cannot be held."""
    name = spec.name
    known = entry.specs.get(name)
    if known is not None and _signature(known) != _signature(spec):
        # The field changed meaning (an attribute's type): build its column again.
        entry.columns.pop(name, None)
        entry.broken.discard(name)
    if name in entry.broken:
        return None
    if name in entry.columns:
        return entry.columns[name]
    where = spec.column[:2]
    specs = [spec] + [
        other
        for other in catalog.values()
        if other.column is not None
        and other.column[:2] == where
        and other.name != name
        and other.name not in entry.columns
        and other.name not in entry.broken
    ]
    for other in specs:
        entry.specs[other.name] = other
    _load(entry, *where, specs)
    entry.loaded.add(where)
    return entry.columns.get(name)


def _load(entry: Entry, source_name: str, db_column: str, specs: list[FieldSpec]) -> None:
    """Read one database column of every account and build the columns of ``specs``."""
    source = _sources[source_name]
    keys, raws = [], []
    for pk, raw in _rows(source, entry.workspace_id, [db_column]):
        keys.append(pk)
        raws.append(raw)
    positions, found = entry.positions(np.array(keys, dtype=np.int64))
    positions = positions[found]
    kept = [raw for raw, ok in zip(raws, found.tolist(), strict=True) if ok]
    for spec in specs:
        column = vectors.new_column(spec, len(entry.ids))
        complete = True
        for position, raw in zip(positions.tolist(), kept, strict=True):
            if not column.set(position, spec.read(_stored(spec, raw), None)):
                complete = False
                break
        if complete:
            entry.columns[spec.name] = column
        else:
            _drop(entry, spec.name)
