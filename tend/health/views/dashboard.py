"""The health dashboard: paying accounts by rank (a donut around the population health score),
how that changed over 90 days and against 7 and 30 days ago, a breakdown by an account
attribute or assignment role, and the accounts that do not pay, apart.

Every slice, bar segment and count opens the accounts list filtered to the accounts it
counts (``status=paying&health=poor&owner=…``), so a number is never a dead end.
"""

from django.db.models import Count
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from tend.accounts.models import Account, AccountStatus
from tend.accounts.queries import AccountFilters, primary_role_of
from tend.accounts.views.accounts.common import member_required
from tend.accounts.views.accounts.listing import list_url
from tend.health import distribution
from tend.health.distribution import RANKS, UNSCORED, population_score
from tend.health.extensions import NO_SCORE
from tend.health.models import HealthState, Rank

# The statuses shown apart from paying accounts, in this order.
OTHER_STATUSES = (AccountStatus.TRIAL, AccountStatus.FREE, AccountStatus.CHURNED)
COMPARE_DAYS = (7, 30)


def drill_url(status: str, rank: str | None = None, **params) -> str:
    """The accounts list showing the accounts of ``status`` with ``rank`` (None: any rank,
    ``unscored``: no score) and the group ``params``."""
    health = {} if rank is None else {"health": NO_SCORE if rank == UNSCORED else rank}
    return list_url(AccountFilters(status=status), **health, **params)


def _counts(workspace) -> dict[str, dict[str, int]]:
    """Accounts by status, then by rank (``unscored``: no score yet), in one query."""
    counts: dict[str, dict[str, int]] = {}
    rows = (
        Account.objects.filter(workspace=workspace)
        .values("status", "health__rank")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        by_rank = counts.setdefault(row["status"], {rank: 0 for rank in (*RANKS, UNSCORED)})
        by_rank[row["health__rank"] or UNSCORED] += row["n"]
    return counts


def _tone(rank: str, delta: int) -> str:
    """More Good is good news and more Poor bad news; Average moves either way (from Good or
    from Poor), so its changes stay neutral."""
    if delta == 0 or rank == Rank.AVERAGE:
        return "flat"
    return "good" if (delta > 0) == (rank == Rank.GOOD) else "bad"


def _ranks(paying: dict[str, int], trend: distribution.Trend) -> list[dict]:
    """Each rank's count and share now, its link, and its change against 7 and 30 days ago."""
    ranked = sum(paying[rank] for rank in RANKS)
    rows = []
    for rank in RANKS:
        compared = []
        for days in COMPARE_DAYS:
            then = trend.on(days)
            if then is None:
                compared.append({"days": days, "delta": None})
                continue
            delta = paying[rank] - then[rank]
            compared.append(
                {
                    "days": days,
                    "delta": delta,
                    "then": then[rank],
                    "direction": "up" if delta > 0 else "down" if delta < 0 else "flat",
                    "tone": _tone(rank, delta),
                }
            )
        rows.append(
            {
                "rank": rank,
                "label": Rank(rank).label,
                "count": paying[rank],
                "share": round(100 * paying[rank] / ranked) if ranked else 0,
                "url": drill_url(AccountStatus.PAYING, rank),
                "compared": compared,
            }
        )
    return rows


def _donut(ranks: list[dict], score: float | None) -> dict:
    return {
        "score": score,
        "slices": [
            {"rank": r["rank"], "name": r["label"], "value": r["count"], "url": r["url"]}
            for r in ranks
        ],
    }


def _trend_chart(trend: distribution.Trend) -> dict:
    return {
        "dates": [d.isoformat() for d in trend.dates],
        "labels": [f"{d:%b} {d.day}" for d in trend.dates],
        "counts": {rank: trend.counts[rank] for rank in RANKS},
        "population": trend.population,
    }


def _breakdown(workspace, wanted: str) -> dict:
    """The breakdown asked for (``by``), else by Success Manager, else the first dimension."""
    found = distribution.dimensions(workspace)
    if not found:
        return {"dimensions": [], "chosen": None, "groups": [], "chart": None}
    by_value = {d.value: d for d in found}
    chosen = by_value.get(wanted)
    if chosen is None:
        roles = [d.role for d in found if d.kind == "role"]
        primary = primary_role_of(roles)
        chosen = by_value[f"role:{primary.pk}"] if primary else found[0]
    groups = distribution.breakdown(workspace, chosen)
    shown = (*RANKS, UNSCORED) if any(g.counts[UNSCORED] for g in groups) else RANKS
    chart = {
        "groups": [g.label for g in groups],
        "series": [
            {
                "rank": rank,
                "name": "No score" if rank == UNSCORED else Rank(rank).label,
                "values": [g.counts[rank] for g in groups],
                "urls": [
                    drill_url(AccountStatus.PAYING, rank, **g.params) if g.params else ""
                    for g in groups
                ],
            }
            for rank in shown
        ],
    }
    rows = [
        {
            "group": g,
            "url": drill_url(AccountStatus.PAYING, None, **g.params) if g.params else "",
            "good_share": round(100 * g.counts[Rank.GOOD] / g.total) if g.total else 0,
        }
        for g in groups
    ]
    return {
        "dimensions": found,
        "chosen": chosen,
        "groups": rows,
        "chart": chart if groups else None,
        # Bars are drawn top-down; the chart's height follows their number.
        "height": 60 + 34 * len(groups),
    }


def _others(counts: dict[str, dict[str, int]]) -> tuple[list[dict], bool]:
    """The statuses other than paying by rank, and whether any of them has accounts without a
    score (the "None" column shows only then)."""
    rows = []
    unscored = any(counts.get(status, {}).get(UNSCORED) for status in OTHER_STATUSES)
    columns = (*RANKS, UNSCORED) if unscored else RANKS
    for status in OTHER_STATUSES:
        by_rank = counts.get(status)
        if not by_rank:
            continue
        rows.append(
            {
                "status": status,
                "label": AccountStatus(status).label,
                "total": sum(by_rank.values()),
                "cells": [
                    {"rank": rank, "count": by_rank[rank], "url": drill_url(status, rank)}
                    for rank in columns
                ],
                "url": drill_url(status),
            }
        )
    return rows, unscored


def _optional_url(name: str) -> str:
    """A page of another part of health, if it is installed."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@member_required
@require_GET
def dashboard(request):
    workspace = request.actor.workspace
    wanted = request.GET.get("by", "")
    breakdown = _breakdown(workspace, wanted)
    if request.htmx and request.htmx.target == "health-breakdown":
        context = {"breakdown": breakdown}
        response = render(request, "health/dashboard.html#breakdown", context)
        if breakdown["chosen"] is not None:
            push_url(response, f"{reverse('health:dashboard')}?by={breakdown['chosen'].value}")
        patch_vary_headers(response, ("HX-Request", "HX-Target"))
        return response

    counts = _counts(workspace)
    paying = counts.get(AccountStatus.PAYING, {rank: 0 for rank in (*RANKS, UNSCORED)})
    scored = any(counts[status][rank] for status in counts for rank in RANKS)
    trend = distribution.trend(workspace)
    score = population_score(paying)
    ranks = _ranks(paying, trend)
    others, others_unscored = _others(counts)
    context = {
        "scored": scored,
        "paying": paying,
        "paying_total": sum(paying.values()),
        "paying_url": drill_url(AccountStatus.PAYING),
        "unscored_url": drill_url(AccountStatus.PAYING, UNSCORED),
        "population_score": score,
        "ranks": ranks,
        "donut": _donut(ranks, score),
        "trend_chart": _trend_chart(trend),
        "trend_has_history": sum(1 for v in trend.population if v is not None) > 1,
        "breakdown": breakdown,
        "others": others,
        "others_unscored": others_unscored,
        "state": HealthState.objects.filter(workspace=workspace).first(),
        "ingestion_url": _optional_url("usage:ingestion"),
        "accounts_url": reverse("accounts:list"),
        "profiles_url": _optional_url("health:profiles"),
    }
    response = render(request, "health/dashboard.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response
