"""Reading health back: one account's explanation on any day and its history, and a
workspace's overview.

The explanation is recomputed from the account's inputs as of the day asked for, with the
same scorer that stored its score (DESIGN rule 6), so it adds up to the stored number
whenever the inputs are still what the scoring saw.
"""

import datetime
from dataclasses import dataclass

import numpy as np
from django.db.models import Count

from tend.accounts.models import Account, AccountStatus
from tend.health import scoring, sources
from tend.health.actions.scoring import active_profiles
from tend.health.models import AccountHealth, HealthChange, HealthSnapshot, Rank
from tend.lib.dates import date_of, day_number, zone
from tend.lib.errors import InvalidInput
from tend.workspaces.models import Workspace

# Population health: each paying account counts 100 if Good, 50 if Average, 0 if Poor
# (docs/health.md): 100 when all are Good, 0 when all are Poor.
POPULATION_POINTS = {Rank.GOOD: 100, Rank.AVERAGE: 50, Rank.POOR: 0}
HISTORY_DAYS = 90


def explain_account(account: Account, day: int | None = None) -> dict:
    """The account's rank and score on local day ``day`` (today by default) with every
    dimension's and metric's value, grade, points, weight and contribution, the profile and
    version used, and what would lift it a rank.

    Today: the profile that scores the account now, on the live inputs. A past day: the
    profile version its history recorded that day (the latest snapshot on or before it), on
    the inputs as of that day (:mod:`tend.health.sources`: usage recomputed from the
    rollups; attributes, which have no history, as they are now — those metrics are marked
    ``read_as_now``). ``recorded`` is what was stored (the current health, or that day's
    snapshot); the breakdown can differ from it when inputs changed since the scoring.
    Raises :class:`InvalidInput` naming ``date`` for a day after today, a day before the
    account's history, or a day scored by a profile deleted since.
    """
    workspace = account.workspace
    today = sources.local_today(workspace)
    day = today if day is None else day
    if day > today:
        raise InvalidInput("date", f"is after today ({date_of(today).isoformat()})")
    if day == today:
        health = (
            AccountHealth.objects.filter(account=account)
            .select_related("profile", "version")
            .first()
        )
        profiles = active_profiles(workspace)
        chosen = next(
            (p for p in profiles if health and p[0].pk == health.profile_id), profiles[-1]
        )
        profile, version, definition = chosen
        recorded = {"rank": health.rank, "score": health.score} if health else None
        rank_since = health.rank_since if health else None
        computed_at = health.computed_at if health else None
    else:
        profile, version, definition, recorded, rank_since = _as_recorded(account, day)
        computed_at = None
    ids = np.array([account.pk], dtype=np.int64)
    inputs = sources.read(workspace, ids, definition.inputs().values(), day)
    scored = scoring.score(definition, inputs)
    explanation = scoring.explain(definition, scored, 0)
    past = day != today
    for dimension in explanation["dimensions"]:
        for metric in dimension["metrics"]:
            source = sources.source_for(metric["source"])
            metric["read_as_now"] = past and source is not None and not source.has_history
    children = definition.parent_mode != "own" and account.children.exists()
    if children and recorded is not None:
        # A parent scored from its children: the stored score is theirs, the breakdown its own.
        explanation.update(score=recorded["score"], rank=recorded["rank"], to_next_rank=[])
    return {
        "account_id": account.pk,
        "date": date_of(day),
        "profile": {"id": profile.pk, "name": profile.name},
        "version": {"id": version.pk, "number": version.number},
        "kind": definition.kind,
        "from_children": bool(children),
        "parent_mode": definition.parent_mode,
        "rank_since": rank_since,
        "computed_at": computed_at,
        "recorded": recorded,
        **explanation,
    }


def _as_recorded(account: Account, day: int) -> tuple:
    """(profile, version, definition, recorded, rank since) of the account on a past day,
    from the latest snapshot on or before it (three queries)."""
    snapshot = (
        HealthSnapshot.objects.filter(account=account, day__lte=day)
        .select_related("version__profile")
        .order_by("-day")
        .first()
    )
    when = date_of(day).isoformat()
    if snapshot is None:
        first = (
            HealthSnapshot.objects.filter(account=account)
            .order_by("day")
            .values_list("day", flat=True)
            .first()
        )
        raise InvalidInput(
            "date",
            f"the account has no health recorded on or before {when}; "
            + (
                f"its history starts on {date_of(first).isoformat()}"
                if first is not None
                else "it has not been scored yet"
            ),
        )
    version = snapshot.version
    if version is None:
        raise InvalidInput(
            "date",
            f"the profile that scored the account on {when} has been deleted since; "
            f"it was ranked {snapshot.rank or 'no rank'} then",
        )
    # The rank began with the last change of rank up to the end of that local day.
    end = datetime.datetime.combine(
        date_of(day + 1), datetime.time(), tzinfo=zone(account.workspace.time_zone)
    )
    change = (
        HealthChange.objects.filter(account=account, changed_at__lt=end)
        .order_by("-changed_at", "-id")
        .values_list("changed_at", flat=True)
        .first()
    )
    recorded = {"rank": snapshot.rank, "score": snapshot.score}
    definition = scoring.parse_definition(version.definition)
    return version.profile, version, definition, recorded, change


def parse_date(value) -> int | None:
    """A ``YYYY-MM-DD`` date as a day number (None for none); :class:`InvalidInput` naming
    ``date`` otherwise."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return day_number(value)
    try:
        return day_number(datetime.date.fromisoformat(str(value)))
    except ValueError as exc:
        raise InvalidInput("date", "expected a date as YYYY-MM-DD") from exc


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
