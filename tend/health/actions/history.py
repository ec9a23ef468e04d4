"""Health history for the days before health was scored: the scorer replayed over past days.

A workspace that brings months of usage (an import, the demo) starts with no health history:
the dashboard's trend and each account's history chart would be empty until days pass.
:func:`backfill_history` scores each past day as the nightly run would have, on the sources'
values as of that day (usage recomputed from the rollups; see :mod:`tend.health.sources`),
and records what changed as if it had run then.

Steps:

1. **Days**: the ``days`` local days before today, stopping before the first day that already
   has a snapshot (recorded history is never rewritten).
2. **Profiles of each day**: each profile with the version in force at the end of that day
   (the latest saved on or before it, so a history chart shows where a new version began);
   a profile with no version yet does not score that day, except the default, which scores
   with its first version. Accounts are assigned to profiles by what they are now: the
   conditions read today's data.
3. **Inputs**: every input of every version used, read once for all the days
   (:func:`tend.health.sources.read_days`).
4. **Score each day** with :func:`tend.health.actions.scoring.evaluate` (one vectorised call
   per profile) and compare with the day before: a snapshot for each account whose score,
   rank, dimensions or version changed, a ``HealthChange`` for each change of rank, dated
   that day at :data:`RUN_HOUR` local time.
5. **Store** in one transaction; accounts with no current health yet get the last day's.
"""

import datetime
import time
from dataclasses import dataclass

import numpy as np
from django.db import transaction

from tend.accounts.bulk.sql import upsert
from tend.health import sources
from tend.health.actions.profiles import ensure_default_profile
from tend.health.actions.scoring import SCORE_CHANGE, accounts_of, evaluate, population
from tend.health.models import (
    AccountHealth,
    HealthChange,
    HealthProfile,
    HealthSnapshot,
    ProfileVersion,
)
from tend.health.scoring import RANKS, parse_definition
from tend.lib.dates import date_of, day_number, zone
from tend.workspaces.models import Workspace

DEFAULT_DAYS = 90
MAX_DAYS = 400
RUN_HOUR = 6  # replayed changes are dated at this local hour: when a nightly run is done


@dataclass
class HistoryRun:
    days: int = 0
    snapshots: int = 0
    rank_changes: int = 0
    seconds: float = 0.0


def _profiles_by_day(workspace: Workspace, days: list[int]) -> dict[int, list]:
    """For each day, the (profile, version, definition) triples that scored it, in the order
    they are tried (the default last)."""
    ensure_default_profile(workspace)
    tz = zone(workspace.time_zone)
    profiles = list(
        HealthProfile.objects.filter(workspace=workspace).order_by("is_default", "position", "name")
    )
    versions: dict[int, list[tuple[int, ProfileVersion]]] = {p.pk: [] for p in profiles}
    for version in ProfileVersion.objects.filter(workspace=workspace).order_by("number"):
        saved = day_number(version.created_at.astimezone(tz).date())
        versions[version.profile_id].append((saved, version))
    parsed: dict[int, object] = {}

    def definition(version: ProfileVersion):
        if version.pk not in parsed:
            parsed[version.pk] = parse_definition(version.definition)
        return parsed[version.pk]

    found = {}
    for day in days:
        triples = []
        for profile in profiles:
            history = versions[profile.pk]
            in_force = [v for saved, v in history if saved <= day]
            if in_force:
                version = in_force[-1]
            elif profile.is_default and history:
                version = history[0][1]
            else:
                continue
            triples.append((profile, version, definition(version)))
        found[day] = triples
    return found


def _moment(day: int, tz) -> datetime.datetime:
    return datetime.datetime.combine(date_of(day), datetime.time(RUN_HOUR), tzinfo=tz)


@transaction.atomic
def backfill_history(
    workspace: Workspace, days: int = DEFAULT_DAYS, *, today: int | None = None
) -> HistoryRun:
    """Replay health over the ``days`` days before today; see the module docstring."""
    started = time.perf_counter()
    days = max(0, min(int(days), MAX_DAYS))
    today = today if today is not None else sources.local_today(workspace)
    earliest = (
        HealthSnapshot.objects.filter(workspace=workspace)
        .order_by("day")
        .values_list("day", flat=True)
        .first()
    )
    last = min(today, earliest if earliest is not None else today) - 1
    replayed = list(range(today - days, last + 1))
    if not replayed:
        return HistoryRun()
    tz = zone(workspace.time_zone)
    plans = _profiles_by_day(workspace, replayed)
    rules = {}
    for triples in plans.values():
        for _profile, _version, definition in triples:
            rules.update(definition.inputs())
    people_of: dict[tuple, object] = {}
    snapshot_rows, changes = [], []
    previous = None  # (score, rank, version ids, dimensions) of the day before
    ids = None
    accounts = accounts_of(workspace)
    for day, inputs in sources.read_days(workspace, accounts[0], list(rules.values()), replayed):
        profiles = plans[day]
        key = tuple(p.pk for p, _v, _d in profiles)
        if key not in people_of:
            people_of[key] = population(workspace, profiles, accounts=accounts)
        people = people_of[key]
        ids = people.ids
        result = evaluate(workspace, profiles, day=day, inputs_cache=dict(inputs), people=people)
        score = np.round(result.score, 1)
        version_ids = np.array([version.pk for _p, version, _d in profiles], dtype=np.int64)
        versions = version_ids[people.profile_index]
        dimensions = result.dimensions
        moment = _moment(day, tz)
        for i in _changed(previous, score, result.rank, versions, dimensions):
            value = None if np.isnan(score[i]) else float(score[i])
            rank = RANKS.get(int(result.rank[i]))
            snapshot_rows.append(
                (workspace.pk, int(ids[i]), day, value, rank, dimensions[i], int(versions[i]))
            )
            old_rank = None if previous is None else RANKS.get(int(previous[1][i]))
            if previous is None or rank != old_rank:
                changes.append(
                    HealthChange(
                        workspace=workspace,
                        account_id=int(ids[i]),
                        from_rank=old_rank,
                        to_rank=rank,
                        score=value,
                        version_id=int(versions[i]),
                        changed_at=moment,
                    )
                )
        previous = (score, result.rank, versions, dimensions, people.profile_index, profiles)
    _store(workspace, snapshot_rows, changes, previous, ids, _moment(replayed[-1], tz))
    return HistoryRun(
        days=len(replayed),
        snapshots=len(snapshot_rows),
        rank_changes=len(changes),
        seconds=time.perf_counter() - started,
    )


def _changed(previous, score, rank, versions, dimensions) -> list[int]:
    """Positions whose score (by :data:`SCORE_CHANGE` or more), rank, version or dimensions
    differ from the day before (every position on the first day)."""
    if previous is None:
        return list(range(len(score)))
    old_score, old_rank, old_versions, old_dimensions = previous[:4]
    both_missing = np.isnan(score) & np.isnan(old_score)
    with np.errstate(invalid="ignore"):
        moved = ~both_missing & ~(np.abs(score - old_score) < SCORE_CHANGE)
    changed = moved | (rank != old_rank) | (versions != old_versions)
    return [i for i in range(len(score)) if changed[i] or dimensions[i] != old_dimensions[i]]


def _store(workspace, snapshot_rows, changes, last_state, ids, moment) -> None:
    """Write the snapshots and changes; give accounts without current health the last day's,
    ranked since their last change."""
    if not snapshot_rows:
        return
    upsert(
        HealthSnapshot,
        ("workspace_id", "account_id", "day", "score", "rank", "dimensions", "version_id"),
        snapshot_rows,
        ["account", "day"],
        ["score", "rank", "dimensions", "version_id"],
    )
    HealthChange.objects.bulk_create(changes, batch_size=1000)
    if last_state is None:
        return
    score, rank, versions, dimensions, profile_index, profiles = last_state
    since = {c.account_id: c.changed_at for c in changes}
    stored = set(
        AccountHealth.objects.filter(workspace=workspace).values_list("account_id", flat=True)
    )
    rows = []
    for i, account_id in enumerate(ids.tolist()):
        if account_id in stored:
            continue
        rows.append(
            (
                account_id,
                workspace.pk,
                profiles[profile_index[i]][0].pk,
                int(versions[i]),
                None if np.isnan(score[i]) else float(score[i]),
                RANKS.get(int(rank[i])),
                dimensions[i],
                moment,
                since.get(account_id, moment),
            )
        )
    if rows:
        upsert(
            AccountHealth,
            (
                "account_id",
                "workspace_id",
                "profile_id",
                "version_id",
                "score",
                "rank",
                "dimensions",
                "computed_at",
                "rank_since",
            ),
            rows,
            ["account"],
            [
                "profile_id",
                "version_id",
                "score",
                "rank",
                "dimensions",
                "computed_at",
                "rank_since",
            ],
        )
