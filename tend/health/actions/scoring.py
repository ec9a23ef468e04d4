"""Scoring a workspace and storing what changed.

Steps of :func:`score_workspace`:

1. **Profiles**: the workspace's profiles with their current versions, in priority order,
   the default last (created with the classic rule if the workspace has none).
2. **Accounts**: every account's id and parent; which profile scores it (the first whose
   condition it meets, else the default).
3. **Score** each profile's accounts in one vectorised call (:mod:`tend.health.scoring`)
   on the inputs the sources read (:mod:`tend.health.sources`); then parents whose profile
   says so take their children's mean.
4. **Store** in one transaction what changed: the account's current health, a
   ``HealthChange`` for each change of rank, and today's snapshot of each changed account;
   the health of accounts deleted since the last scoring is removed.

The same steps with nothing stored give the live preview (:func:`evaluate`).
"""

import math
import time
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import orjson
from django.db import connection, transaction
from django.utils import timezone

from tend.accounts.bulk.sql import upsert
from tend.accounts.conditions import matching_accounts
from tend.accounts.models import Account
from tend.events import emit_many
from tend.health import scoring, sources
from tend.health.actions.profiles import ensure_default_profile
from tend.health.conditions import profile_catalog
from tend.health.models import (
    AccountHealth,
    HealthChange,
    HealthProfile,
    HealthSnapshot,
    HealthState,
    ProfileVersion,
)
from tend.health.scoring import RANKS, UNSCORED, Definition, parse_definition
from tend.lib import pg_copy
from tend.lib.changes import announce
from tend.lib.conditions import InvalidCondition
from tend.workspaces.models import Workspace

SCORE_CHANGE = 0.05  # smaller moves of the score are not a change worth a write


@dataclass
class Population:
    """The accounts of a workspace as arrays, and which profile scores each."""

    ids: np.ndarray
    parents: np.ndarray
    profile_index: np.ndarray  # index into ``profiles``


@dataclass
class Result:
    """One profile set's scores for a whole population (nothing stored)."""

    population: Population
    profiles: list[tuple[HealthProfile, ProfileVersion, Definition]]
    score: np.ndarray
    rank: np.ndarray
    scored: list  # per profile: its Scored (None when it scores nobody) and its accounts

    def distribution(self, mask: np.ndarray | None = None) -> dict[str, int]:
        ranks = self.rank if mask is None else self.rank[mask]
        counts = {name: int((ranks == code).sum()) for code, name in RANKS.items()}
        counts["unscored"] = int((ranks == UNSCORED).sum())
        return counts

    @cached_property
    def dimensions(self) -> list[dict]:
        """Per account: dimension key → score (rounded) or None. Built on first use only:
        the preview compares ranks and scores and never needs it."""
        found: list[dict] = [{} for _ in range(len(self.population.ids))]
        for (_profile, _version, definition), (result, members) in zip(
            self.profiles, self.scored, strict=True
        ):
            if result is None:
                continue
            for d in definition.dimensions:
                column = result.dimensions[d.key].tolist()
                for i, value in zip(members.tolist(), column, strict=True):
                    found[i][d.key] = None if math.isnan(value) else round(value, 1)
        return found


@dataclass
class ScoreRun:
    accounts: int = 0
    changed: int = 0
    rank_changes: int = 0
    seconds: float = 0.0
    distribution: dict = field(default_factory=dict)


def active_profiles(workspace: Workspace) -> list[tuple[HealthProfile, ProfileVersion, Definition]]:
    """The profiles that score accounts, in the order they are tried (the default last)."""
    ensure_default_profile(workspace)
    found = []
    for profile in (
        HealthProfile.objects.filter(workspace=workspace, current_version__isnull=False)
        .select_related("current_version")
        .order_by("is_default", "position", "name")
    ):
        definition = parse_definition(profile.current_version.definition)
        found.append((profile, profile.current_version, definition))
    return found


def accounts_of(workspace: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """Every account's id (ascending) and parent id (0 for none), in one query."""
    rows = list(
        Account.objects.filter(workspace=workspace).order_by("id").values_list("id", "parent_id")
    )
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    parents = np.array([r[1] or 0 for r in rows], dtype=np.int64)
    return ids, parents


def condition_key(condition) -> str:
    """A stable text key of a condition (for caching the accounts it matches)."""
    return orjson.dumps(condition, option=orjson.OPT_SORT_KEYS).decode()


def matching_mask(
    workspace: Workspace, condition, ids: np.ndarray, *, catalog=None, now=None
) -> np.ndarray:
    """Which of ``ids`` (ascending) meet ``condition``: one query for the whole population."""
    matched = np.fromiter(
        matching_accounts(workspace, condition, catalog=catalog, now=now)
        .order_by()
        .values_list("id", flat=True)
        .iterator(chunk_size=10_000),
        dtype=np.int64,
    )
    return np.isin(ids, matched, assume_unique=True)


def population(
    workspace: Workspace,
    profiles: list,
    *,
    accounts: tuple[np.ndarray, np.ndarray] | None = None,
    matches: dict | None = None,
) -> Population:
    """The workspace's accounts and which profile scores each.

    Steps: every account starts with the default (the last profile); then, from the last
    conditioned profile to the first, each takes the accounts its condition matches — so
    the first profile in order whose condition an account meets wins. One query per
    profile with a condition (its matches are kept in ``matches``, by condition, for callers
    that score the same population again, such as the preview); a non-default profile
    without a condition scores nothing. ``accounts`` gives ids and parents already read.
    """
    ids, parents = accounts if accounts is not None else accounts_of(workspace)
    index = np.full(len(ids), len(profiles) - 1, dtype=np.int32)
    matches = matches if matches is not None else {}
    catalog = None
    for position in range(len(profiles) - 2, -1, -1):
        condition = profiles[position][0].condition
        if not condition:
            continue
        key = condition_key(condition)
        if key not in matches:
            catalog = catalog or profile_catalog(workspace)
            try:
                matches[key] = matching_mask(workspace, condition, ids, catalog=catalog)
            except InvalidCondition:
                # Saved conditions were valid; one can go stale when a field it names is
                # removed (an attribute deleted). Its profile then claims no account, so
                # they fall to the next profile instead of the whole workspace going
                # unscored; the profile list says why.
                matches[key] = np.zeros(len(ids), dtype=bool)
        index[matches[key]] = position
    return Population(ids=ids, parents=parents, profile_index=index)


def evaluate(
    workspace: Workspace,
    profiles: list | None = None,
    *,
    day: int | None = None,
    inputs_cache: dict | None = None,
    people: Population | None = None,
) -> Result:
    """Score every account of ``workspace`` with ``profiles`` (the active ones by default);
    nothing is stored. ``inputs_cache`` lets a caller reuse inputs already read, and
    ``people`` a population already assigned to ``profiles``."""
    profiles = profiles if profiles is not None else active_profiles(workspace)
    day = day if day is not None else sources.local_today(workspace)
    people = people if people is not None else population(workspace, profiles)
    n = len(people.ids)
    score = np.full(n, np.nan)
    rank = np.full(n, UNSCORED, dtype=np.int8)
    scored = []
    cache = inputs_cache if inputs_cache is not None else {}
    for position, (_profile, _version, definition) in enumerate(profiles):
        members = np.nonzero(people.profile_index == position)[0]
        if not len(members):
            scored.append((None, members))
            continue
        needed = [rule for key, rule in definition.inputs().items() if key not in cache]
        if needed:
            cache.update(sources.read(workspace, people.ids, needed, day))
        inputs = {key: cache[key][members] for key in definition.inputs()}
        result = scoring.score(definition, inputs)
        score[members] = result.score
        rank[members] = result.rank
        scored.append((result, members))
    _roll_up(workspace, profiles, people, score, rank, cache)
    return Result(people, profiles, score, rank, scored)


def _roll_up(
    workspace: Workspace,
    profiles: list,
    people: Population,
    score: np.ndarray,
    rank: np.ndarray,
    cache: dict,
) -> None:
    """Parents scored by a profile with a roll-up mode take their children's (weighted) mean."""
    is_parent = np.isin(people.ids, people.parents)
    if not is_parent.any():
        return
    for position, (_profile, _version, definition) in enumerate(profiles):
        if definition.parent_mode == "own":
            continue
        weights = None
        if definition.parent_mode == "weighted":
            key = definition.parent_weight_attribute
            # Kept with the inputs, so the preview reads the weights once too.
            cache_key = f"parent weight?{key}"
            if cache_key not in cache:
                values = dict(
                    Account.objects.filter(workspace=workspace).values_list("id", "attributes")
                )
                cache[cache_key] = np.array(
                    [_positive((values.get(i) or {}).get(key)) for i in people.ids.tolist()],
                    dtype=float,
                )
            weights = cache[cache_key]
        rolled = scoring.roll_up_parents(definition, people.ids, people.parents, score, weights)
        mask = (people.profile_index == position) & is_parent
        score[mask] = rolled[mask]
        rank[mask] = scoring.rank_of(definition, rolled[mask])


def _positive(value) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return 0.0


def score_workspace(workspace: Workspace, *, now=None) -> ScoreRun:
    """Score every account and store what changed; see the module docstring."""
    started = time.perf_counter()
    now = now or timezone.now()
    day = sources.local_today(workspace, now)
    result = evaluate(workspace, day=day)
    people = result.population
    stored = {
        row[0]: row[1:]
        for row in AccountHealth.objects.filter(workspace=workspace).values_list(
            "account_id", "version_id", "score", "rank", "dimensions"
        )
    }
    health_rows, snapshot_rows, changes = [], [], []
    # Plain Python values, column by column: a loop over 100,000 accounts that indexes NumPy
    # arrays and reads model primary keys per account costs more than storing them.
    ids = people.ids.tolist()
    keys = [(profile.pk, version.pk) for profile, version, _definition in result.profiles]
    scores = [None if math.isnan(v) else round(v, 1) for v in result.score.tolist()]
    ranks = [RANKS.get(code) for code in result.rank.tolist()]
    workspace_id = workspace.pk
    for account_id, position, value, rank, dims in zip(
        ids, people.profile_index.tolist(), scores, ranks, result.dimensions, strict=True
    ):
        profile_id, version_id = keys[position]
        before = stored.get(account_id)
        if before is not None:
            old_version, old_score, old_rank, old_dims = before
            same_score = (old_score is None and value is None) or (
                old_score is not None
                and value is not None
                and abs(old_score - value) < SCORE_CHANGE
            )
            if old_version == version_id and same_score and old_rank == rank and old_dims == dims:
                continue
        old_rank = before[2] if before else None
        health_rows.append(
            (account_id, workspace_id, profile_id, version_id, value, rank, dims, now)
        )
        snapshot_rows.append((workspace_id, account_id, day, value, rank, dims, version_id))
        if rank != old_rank:
            changes.append((workspace_id, account_id, old_rank, rank, value, version_id, now))
    changed_ranks = {c[1] for c in changes}
    gone = stored.keys() - set(ids)
    with transaction.atomic():
        if gone:
            _delete_health_of(workspace, sorted(gone))
        if health_rows:
            _store_health(health_rows, changed_ranks, now)
            _upsert(
                HealthSnapshot,
                ("workspace_id", "account_id", "day", "score", "rank", "dimensions", "version_id"),
                snapshot_rows,
                ["account", "day"],
                ["score", "rank", "dimensions", "version_id"],
            )
            _insert_changes(changes)
        seconds = time.perf_counter() - started
        HealthState.objects.update_or_create(
            workspace=workspace, defaults={"scored_at": now, "scored_day": day, "seconds": seconds}
        )
    return ScoreRun(
        accounts=len(people.ids),
        changed=len(health_rows),
        rank_changes=len(changes),
        seconds=seconds,
        distribution=result.distribution(),
    )


def _delete_health_of(workspace: Workspace, account_ids: list[int]) -> None:
    """Remove the health of accounts that no longer exist. The health tables have no
    foreign-key constraints (``tend/health/models.py``): a scoring that read an account just
    before it was deleted writes its rows after the deletion cascaded, and the next scoring,
    which finds the account gone, removes them."""
    for start in range(0, len(account_ids), 900):
        part = account_ids[start : start + 900]
        for model in (AccountHealth, HealthSnapshot, HealthChange):
            model.objects.filter(workspace=workspace, account_id__in=part).delete()


CHANGE_COLUMNS = ("workspace", "account", "from_rank", "to_rank", "score", "version", "changed_at")


def _upsert(model, attnames, rows, unique, update) -> None:
    """The bulk upsert of ``tend.accounts.bulk.sql`` on SQLite; on PostgreSQL the rows are
    copied in first (``tend.lib.pg_copy``): a first scoring writes 100,000 of each kind, and
    parsing them as one JSON document was half of the server's work."""
    if connection.vendor == "postgresql":
        pg_copy.upsert(model, attnames, rows, unique, update)
    else:
        upsert(model, attnames, rows, unique, update)


def _insert_changes(rows: list[tuple]) -> None:
    """Append ``HealthChange`` rows (values of ``CHANGE_COLUMNS``) as plain rows.

    Why not ``bulk_create``: a first scoring writes one change per account, and building
    and preparing 100,000 model instances took most of a workspace's scoring. SQLite runs
    one prepared statement per batch (``executemany``); PostgreSQL copies them in
    (``tend.lib.pg_copy``).
    """
    if not rows:
        return
    announce(rows[0][0])
    emit_many(
        rows[0][0],
        (
            (
                "health.rank_changed",
                {"account": {"id": account}, "from_rank": old, "to_rank": new, "score": score},
            )
            for _, account, old, new, score, _, _ in rows
        ),
        at=rows[0][-1],
    )
    if connection.vendor == "postgresql":
        pg_copy.insert(HealthChange, CHANGE_COLUMNS, rows)
        return
    meta = HealthChange._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in CHANGE_COLUMNS]
    columns = ", ".join(quote(f.column) for f in fields)
    table = quote(meta.db_table)
    stamp = rows[0][-1]
    changed_at = connection.ops.adapt_datetimefield_value(stamp)
    marks = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHANGE_BATCH):
            batch = rows[start : start + CHANGE_BATCH]
            # Only quoted names from the model's _meta are formatted in.
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
                [(*row[:-1], changed_at) for row in batch],
            )


CHANGE_BATCH = 5_000


def _store_health(rows: list[tuple], changed_ranks: set[int], now) -> None:
    """Upsert current health; ``rank_since`` moves only for accounts whose rank changed."""
    columns = (
        "account_id",
        "workspace_id",
        "profile_id",
        "version_id",
        "score",
        "rank",
        "dimensions",
        "computed_at",
    )
    same_rank = [r for r in rows if r[0] not in changed_ranks]
    new_rank = [(*r, now) for r in rows if r[0] in changed_ranks]
    updates = ["profile_id", "version_id", "score", "rank", "dimensions", "computed_at"]
    if same_rank:
        _upsert(
            AccountHealth,
            (*columns, "rank_since"),
            [(*r, now) for r in same_rank],
            ["account"],
            updates,
        )
    if new_rank:
        _upsert(
            AccountHealth, (*columns, "rank_since"), new_rank, ["account"], [*updates, "rank_since"]
        )
