"""How health shows up in the accounts app's pages and API, through
``tend.accounts.extensions`` (accounts may not import health): the list's Health and Score
columns and its Health filter, the profile's health panel, and the ``health`` field of the
account in the REST API.

The columns read the account's current health (``AccountHealth``), joined into the list's one
query by ``prepare``; accounts without a score sort last whichever the direction.
"""

import datetime

from django import forms
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils.formats import date_format
from django.utils.html import format_html
from ninja import Field, Schema

from tend.accounts.extensions import (
    ApiField,
    ListColumn,
    ListFilter,
    ProfilePanel,
    add_api_field,
    add_list_column,
    add_list_filter,
    add_profile_panel,
)
from tend.health.models import AccountHealth, Rank

# Ranks from worst to best: the ascending order of the Health column.
RANK_ORDER = {Rank.POOR: 0, Rank.AVERAGE: 1, Rank.GOOD: 2}
NO_SCORE = "none"  # the filter's value for accounts without a rank
FILTER_CHOICES = [("", "Any health"), *Rank.choices, (NO_SCORE, "No score")]


def health_of(account) -> AccountHealth | None:
    """The account's current health as joined by ``prepare`` (no query), or None."""
    try:
        return account.health
    except ObjectDoesNotExist:
        return None


def rank_badge(rank: str | None):
    """The rank as a coloured badge (safe HTML), or "" without a rank."""
    if not rank:
        return ""
    return format_html('<span class="badge rank rank-{}">{}</span>', rank, Rank(rank).label)


def _with_health(queryset):
    return queryset.select_related("health__profile")


def _rank_cell(account) -> tuple[str, str]:
    health = health_of(account)
    if health is None or not health.rank:
        return "", "Not scored yet"
    since = date_format(health.rank_since, "M j, Y")
    profile = f" · {health.profile.name}" if health.profile else ""
    return rank_badge(health.rank), f"{Rank(health.rank).label} since {since}{profile}"


def _score_cell(account) -> tuple[str, str]:
    health = health_of(account)
    if health is None or health.score is None:
        return "", "Not scored yet"
    # One decimal, as the profile shows it: 69.6 must not read as a Good 70.
    return f"{round(health.score, 1):g}", f"Health score {health.score:g} of 100"


def _rank_export(account) -> str | None:
    health = health_of(account)
    return Rank(health.rank).label if health and health.rank else None


def _score_export(account) -> float | None:
    health = health_of(account)
    # The figure the list shows, so the file agrees with the screen.
    return None if health is None or health.score is None else round(health.score, 1)


def _filter_field(workspace, current: str) -> forms.Field:
    return forms.ChoiceField(choices=FILTER_CHOICES, required=False, label="Health")


def _filter_accounts(queryset, value: str):
    if value == NO_SCORE:
        return queryset.filter(Q(health__isnull=True) | Q(health__rank__isnull=True))
    return queryset.filter(health__rank=value)


def _filter_clauses(value: str) -> list[dict]:
    if value == NO_SCORE:
        return [{"field": "health.rank", "op": "is_not_set"}]
    return [{"field": "health.rank", "op": "eq", "value": value}]


class ProfileRef(Schema):
    id: int
    name: str


class AccountHealthOut(Schema):
    """The ``health`` of an account in the accounts API (the full explanation is
    ``GET /api/v1/accounts/{id}/health``)."""

    rank: str | None = Field(..., description="good, average or poor; null: no score")
    score: float | None = Field(..., description="0–100, one decimal")
    profile: ProfileRef | None = Field(..., description="The profile that scored the account.")
    since: datetime.datetime = Field(..., description="When the account took this rank.")


def _api_values(workspace, ids: list[int]) -> dict[int, dict]:
    """The current health of a page of accounts, in one query."""
    rows = AccountHealth.objects.filter(workspace=workspace, account_id__in=ids).values_list(
        "account_id", "rank", "score", "profile_id", "profile__name", "rank_since"
    )
    return {
        account_id: {
            "rank": rank,
            "score": score,
            "profile": {"id": profile_id, "name": name} if profile_id else None,
            "since": since,
        }
        for account_id, rank, score, profile_id, name, since in rows
    }


def register() -> None:
    """Called from ``HealthConfig.ready``."""
    add_list_column(
        ListColumn(
            key="health",
            label="Health",
            description="The account's health rank: Good, Average or Poor",
            cell=_rank_cell,
            export=_rank_export,
            order=[
                Case(
                    *(When(health__rank=r, then=Value(n)) for r, n in RANK_ORDER.items()),
                    default=None,
                    output_field=IntegerField(),
                ).asc(nulls_last=True)
            ],
            prepare=_with_health,
            # Worst first: the accounts that need attention.
            descending_first=False,
            sort_labels=("Poorest health first", "Healthiest first"),
            position=5,
        )
    )
    add_list_column(
        ListColumn(
            key="health_score",
            label="Score",
            description="Health score, 0–100",
            cell=_score_cell,
            export=_score_export,
            order=[F("health__score").asc(nulls_last=True)],
            prepare=_with_health,
            numeric=True,
            descending_first=False,
            sort_labels=("Lowest health score", "Highest health score"),
            position=6,
        )
    )
    add_list_filter(
        ListFilter(
            key="health",
            field=_filter_field,
            apply=_filter_accounts,
            position=10,
            clauses=_filter_clauses,
        )
    )
    add_api_field(
        ApiField(
            key="health",
            schema=AccountHealthOut,
            values=_api_values,
            description="The account's current health; null until it is first scored.",
        )
    )
    # Imported here: the panel reads health queries, which need the apps loaded.
    from tend.health.views.account import health_panel

    add_profile_panel(
        ProfilePanel(key="health", template="health/panel.html", context=health_panel, position=5)
    )
