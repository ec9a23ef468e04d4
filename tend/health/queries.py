"""Reading health back: one account's explanation and history, and a workspace's overview.

The explanation is recomputed from the account's current inputs with the same scorer that
stored its score (DESIGN rule 6), so it always adds up to the stored number.
"""

from dataclasses import dataclass

import numpy as np
from django.db.models import Count

from tend.accounts.models import Account, AccountStatus
from tend.health import scoring, sources
from tend.health.actions.scoring import active_profiles
from tend.health.models import AccountHealth, HealthChange, HealthSnapshot, Rank
from tend.lib.dates import date_of
from tend.workspaces.models import Workspace

# Population health: each paying account counts 100 if Good, 50 if Average, 0 if Poor
# (docs/health.md): 100 when all are Good, 0 when all are Poor.
POPULATION_POINTS = {Rank.GOOD: 100, Rank.AVERAGE: 50, Rank.POOR: 0}
HISTORY_DAYS = 90


def explain_account(account: Account) -> dict:
    """The account's rank and score with every dimension's and metric's value, grade, points,
    weight and contribution, the profile and version used, and what would lift it a rank."""
    workspace = account.workspace
    health = (
        AccountHealth.objects.filter(account=account).select_related("profile", "version").first()
    )
    profiles = active_profiles(workspace)
    chosen = next((p for p in profiles if health and p[0].pk == health.profile_id), profiles[-1])
    profile, version, definition = chosen
    day = sources.local_today(workspace)
    ids = np.array([account.pk], dtype=np.int64)
    inputs = sources.read(workspace, ids, definition.inputs().values(), day)
    scored = scoring.score(definition, inputs)
    explanation = scoring.explain(definition, scored, 0)
    children = definition.parent_mode != "own" and account.children.exists()
    if children and health is not None:
        # A parent scored from its children: the stored score is theirs, the breakdown its own.
        explanation.update(score=health.score, rank=health.rank, to_next_rank=[])
    return {
        "account_id": account.pk,
        "profile": {"id": profile.pk, "name": profile.name},
        "version": {"id": version.pk, "number": version.number},
        "kind": definition.kind,
        "from_children": bool(children),
        "parent_mode": definition.parent_mode,
        "rank_since": health.rank_since if health else None,
        "computed_at": health.computed_at if health else None,
        **explanation,
    }


@dataclass
class HistoryPoint:
    date: object
    score: float | None
    rank: str | None
    version: int | None


def history(
    account: Account, days: int = HISTORY_DAYS
) -> tuple[list[HistoryPoint], list[HealthChange]]:
    """The account's health on each of the last ``days`` local days (the latest snapshot on or
    before each day) and its rank changes in that time."""
    workspace = account.workspace
    today = sources.local_today(workspace)
    first = today - days + 1
    snapshots = list(
        HealthSnapshot.objects.filter(account=account, day__lte=today)
        .select_related("version")
        .order_by("day")
    )
    points, current, position = [], None, 0
    for day in range(first, today + 1):
        while position < len(snapshots) and snapshots[position].day <= day:
            current = snapshots[position]
            position += 1
        points.append(
            HistoryPoint(
                date=date_of(day),
                score=current.score if current else None,
                rank=current.rank if current else None,
                version=current.version.number if current and current.version else None,
            )
        )
    changes = list(
        HealthChange.objects.filter(account=account, changed_at__date__gte=date_of(first))
        .select_related("version")
        .order_by("changed_at", "id")
    )
    return points, changes


def overview(workspace: Workspace) -> dict:
    """Paying accounts by rank with the population health score; other statuses apart."""
    rows = AccountHealth.objects.filter(workspace=workspace).values_list("account__status", "rank")
    paying = {rank: 0 for rank in Rank.values}
    paying["unscored"] = 0
    others: dict[str, dict[str, int]] = {}
    for status, rank in rows:
        bucket = paying if status == AccountStatus.PAYING else others.setdefault(status, {})
        key = rank or "unscored"
        bucket[key] = bucket.get(key, 0) + 1
    ranked = sum(paying[r] for r in Rank.values)
    population = (
        round(sum(POPULATION_POINTS[r] * paying[r] for r in Rank.values) / ranked, 1)
        if ranked
        else None
    )
    return {"paying": paying, "population_score": population, "other_statuses": others}


def scored_counts(workspace: Workspace, profile_ids: list[int]) -> dict[int, int]:
    """How many accounts each profile scored at the last scoring (one query)."""
    return dict(
        AccountHealth.objects.filter(workspace=workspace, profile_id__in=profile_ids)
        .values("profile_id")
        .annotate(n=Count("pk"))
        .values_list("profile_id", "n")
    )
