"""Live preview: how a draft of a profile would rank every account, against the profile as
saved — before anything is saved.

Steps of :func:`preview`:

1. **The draft**: the profile's saved definition and condition, with the draft's in their
   place, checked exactly as saving checks them (422 naming the field otherwise).
2. **Inputs**, from a short-lived per-process cache (:class:`PreviewCache`): the accounts
   (ids, parents, whether paying), the metric inputs each profile reads, the accounts each
   condition matches, and the scores of the saved profiles. An entry lives
   ``CACHE_SECONDS`` and is dropped as soon as the workspace is scored again, so a burst
   of previews while someone edits reads the database once and then only scores arrays.
3. **Score** with :func:`tend.health.actions.scoring.evaluate` — the scorer the continuous
   scoring uses (DESIGN rule 6) — once with the saved profiles, once with the draft in the
   profile's place (other profiles unchanged; a changed condition moves accounts between
   profiles as saving it would).
4. **Compare**: the Good / Average / Poor / unscored distribution of both, for paying
   accounts and for all; how many accounts would change rank; and the accounts that move
   most (biggest change of rank first, then of score), with their rank, score and profile
   before and after.
"""

import copy
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from tend.accounts.models import Account, AccountStatus
from tend.health import sources
from tend.health.actions.profiles import check_condition, check_definition
from tend.health.actions.scoring import (
    Population,
    active_profiles,
    condition_key,
    evaluate,
    population,
)
from tend.health.models import HealthProfile, HealthState
from tend.health.scoring import RANKS, UNSCORED, parse_definition
from tend.lib.errors import InvalidInput
from tend.workspaces.access import READ, Actor

CACHE_SECONDS = 60.0
CACHE_WORKSPACES = 16  # entries kept per process; the oldest goes first
# Conditions whose matches an entry keeps: typing a condition's value makes a new one per
# keystroke (each a bool per account); past this many they are read again as needed.
CACHE_CONDITIONS = 64
MOVERS = 20
MAX_MOVERS = 100


@dataclass
class _Entry:
    """What one workspace's previews share while it lasts."""

    created: float
    scored_at: object  # HealthState.scored_at when read: a newer one means stale inputs
    day: int
    ids: np.ndarray
    parents: np.ndarray
    paying: np.ndarray  # bool per account
    inputs: dict = field(default_factory=dict)  # input key → array aligned on ids
    matches: dict = field(default_factory=dict)  # condition key → bool mask over ids
    saved: dict = field(default_factory=dict)  # profiles' key → (score, rank, profile index)


class PreviewCache:
    """Per-process inputs of recent previews, by workspace (thread-safe; bounded)."""

    def __init__(self, seconds: float = CACHE_SECONDS, size: int = CACHE_WORKSPACES):
        self.seconds, self.size = seconds, size
        self._entries: dict[int, _Entry] = {}
        self._lock = threading.Lock()

    def entry(self, workspace) -> _Entry:
        """The workspace's entry, read afresh when missing, older than ``seconds``, or
        older than the workspace's last scoring (one small query to know)."""
        scored_at = (
            HealthState.objects.filter(workspace=workspace)
            .values_list("scored_at", flat=True)
            .first()
        )
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(workspace.pk)
            if (
                entry is not None
                and now - entry.created < self.seconds
                and entry.scored_at == scored_at
            ):
                return entry
        entry = _read(workspace, scored_at, now)
        with self._lock:
            self._entries[workspace.pk] = entry
            while len(self._entries) > self.size:
                oldest = min(self._entries, key=lambda k: self._entries[k].created)
                del self._entries[oldest]
        return entry

    def clear(self, workspace=None) -> None:
        with self._lock:
            if workspace is None:
                self._entries.clear()
            else:
                self._entries.pop(workspace.pk, None)


def _read(workspace, scored_at, now: float) -> _Entry:
    rows = list(
        Account.objects.filter(workspace=workspace)
        .order_by("id")
        .values_list("id", "parent_id", "status")
    )
    return _Entry(
        created=now,
        scored_at=scored_at,
        day=sources.local_today(workspace),
        ids=np.array([r[0] for r in rows], dtype=np.int64),
        parents=np.array([r[1] or 0 for r in rows], dtype=np.int64),
        paying=np.array([r[2] == AccountStatus.PAYING for r in rows], dtype=bool),
    )


cache = PreviewCache()


@dataclass
class Side:
    """One account's state under one set of profiles."""

    rank: str | None
    score: float | None
    profile: str | None


@dataclass
class Mover:
    account_id: int
    name: str
    external_id: str
    status: str
    before: Side
    after: Side
    score_change: float | None


@dataclass
class Preview:
    accounts: int
    paying_accounts: int
    paying: dict  # {"current": {rank: n}, "draft": {rank: n}}
    all: dict
    changed_rank: int
    changed_rank_paying: int
    transitions: list[dict]  # [{"from", "to", "accounts"}], most first
    movers: list[Mover]
    seconds: float


def _draft_profiles(actor: Actor, profile: HealthProfile, draft: dict, saved: list) -> list:
    """The saved profiles with ``draft`` (``definition`` and/or ``condition``) in
    ``profile``'s place, checked as saving would check it."""
    workspace = actor.workspace
    if "definition" not in draft and "condition" not in draft:
        raise InvalidInput("definition", "send a draft definition, a condition, or both")
    position = next((i for i, p in enumerate(saved) if p[0].pk == profile.pk), None)
    if position is None:
        raise InvalidInput("profile", "has no saved version to compare with")
    current, version, definition = saved[position]
    if "definition" in draft:
        check_definition(workspace, draft["definition"])
        definition = parse_definition(draft["definition"])
    if "condition" in draft:
        condition = check_condition(workspace, draft["condition"])
        if condition is not None and current.is_default:
            raise InvalidInput(
                "condition",
                "the default profile scores every account no other profile claims; "
                "it takes no condition",
            )
        current = copy.copy(current)
        current.condition = condition
    profiles = list(saved)
    profiles[position] = (current, version, definition)
    return profiles


def _saved_key(profiles: list) -> tuple:
    return tuple(
        (p.pk, v.pk, condition_key(p.condition) if p.condition else "") for p, v, _d in profiles
    )


def _score(workspace, entry: _Entry, profiles: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    people: Population = population(
        workspace, profiles, accounts=(entry.ids, entry.parents), matches=entry.matches
    )
    result = evaluate(workspace, profiles, day=entry.day, inputs_cache=entry.inputs, people=people)
    return result.score, result.rank, people.profile_index


def _distribution(ranks: np.ndarray) -> dict[str, int]:
    counts = np.bincount(ranks.astype(np.int64) + 1, minlength=4)  # UNSCORED=-1 → 0
    return {
        "good": int(counts[3]),
        "average": int(counts[2]),
        "poor": int(counts[1]),
        "unscored": int(counts[0]),
    }


def _rounded(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 1)


def preview(actor: Actor, profile: HealthProfile, draft: dict, *, movers: int = MOVERS) -> Preview:
    """How ``draft`` (``definition`` and/or ``condition``) would rank every account of the
    profile's workspace, against the profiles as saved; see the module docstring."""
    actor.require(READ)
    started = time.perf_counter()
    workspace = actor.workspace
    if not isinstance(movers, int) or isinstance(movers, bool) or not 0 <= movers <= MAX_MOVERS:
        raise InvalidInput("movers", f"expected a whole number from 0 to {MAX_MOVERS}")
    saved = active_profiles(workspace)
    profiles = _draft_profiles(actor, profile, draft, saved)
    entry = cache.entry(workspace)
    if len(entry.matches) > CACHE_CONDITIONS:
        entry.matches.clear()
    key = _saved_key(saved)
    if key not in entry.saved:
        entry.saved = {key: _score(workspace, entry, saved)}
    before_score, before_rank, before_profile = entry.saved[key]
    after_score, after_rank, after_profile = _score(workspace, entry, profiles)

    moved = before_rank != after_rank
    transitions = np.bincount(
        (before_rank[moved].astype(np.int64) + 1) * 4 + after_rank[moved] + 1, minlength=16
    )
    names = {UNSCORED: "unscored", **RANKS}  # transition index // 4 and % 4 ↔ code + 1
    return Preview(
        accounts=len(entry.ids),
        paying_accounts=int(entry.paying.sum()),
        paying={
            "current": _distribution(before_rank[entry.paying]),
            "draft": _distribution(after_rank[entry.paying]),
        },
        all={"current": _distribution(before_rank), "draft": _distribution(after_rank)},
        changed_rank=int(moved.sum()),
        changed_rank_paying=int((moved & entry.paying).sum()),
        transitions=sorted(
            (
                {
                    "from": names[i // 4 - 1],
                    "to": names[i % 4 - 1],
                    "accounts": int(n),
                }
                for i, n in enumerate(transitions.tolist())
                if n
            ),
            key=lambda t: -t["accounts"],
        ),
        movers=_movers(
            workspace,
            entry,
            (before_score, before_rank, before_profile, saved),
            (after_score, after_rank, after_profile, profiles),
            movers,
        ),
        seconds=round(time.perf_counter() - started, 4),
    )


def _movers(workspace, entry: _Entry, before: tuple, after: tuple, limit: int) -> list[Mover]:
    """The accounts whose rank or score moves most: by the number of ranks crossed (to or
    from unscored counts as one), then by the change of score, then by id."""
    b_score, b_rank, b_profile, b_profiles = before
    a_score, a_rank, a_profile, a_profiles = after
    if not limit or not len(entry.ids):
        return []
    scored_both = (b_rank != UNSCORED) & (a_rank != UNSCORED)
    steps = np.where(
        scored_both,
        np.abs(a_rank.astype(np.int64) - b_rank),
        (b_rank != a_rank).astype(np.int64),
    )
    delta = np.nan_to_num(np.abs(a_score - b_score), nan=0.0)
    candidates = np.nonzero((steps > 0) | (delta >= 0.05))[0]
    if not len(candidates):
        return []
    # lexsort: the last key is the primary one.
    order = np.lexsort((entry.ids[candidates], -delta[candidates], -steps[candidates]))[:limit]
    chosen = candidates[order]
    ids = entry.ids[chosen].tolist()
    accounts = {
        row[0]: row[1:]
        for row in Account.objects.filter(workspace=workspace, pk__in=ids).values_list(
            "id", "name", "external_id", "status"
        )
    }
    found = []
    for i, account_id in zip(chosen.tolist(), ids, strict=True):
        if account_id not in accounts:  # deleted since the cache was read
            continue
        name, external_id, status = accounts[account_id]
        old, new = _rounded(b_score[i]), _rounded(a_score[i])
        found.append(
            Mover(
                account_id=account_id,
                name=name,
                external_id=external_id,
                status=status,
                before=Side(RANKS.get(int(b_rank[i])), old, b_profiles[int(b_profile[i])][0].name),
                after=Side(RANKS.get(int(a_rank[i])), new, a_profiles[int(a_profile[i])][0].name),
                score_change=None if old is None or new is None else round(new - old, 1),
            )
        )
    return found
