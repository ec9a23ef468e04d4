"""Reading health: an account's explanation and history, the workspace's overview, and a
synchronous recompute for scripts and tests."""

import datetime

from ninja import Field, Query, Router, Schema

from tend.accounts.models import Account
from tend.health import queries
from tend.health.actions.scoring import score_workspace
from tend.lib.api_schemas import ERRORS
from tend.workspaces.access import ADMIN, READ, get_for

router = Router(tags=["health"])


class MetricOut(Schema):
    id: str
    source: str
    label: str
    value: float | str | None
    grade: str | None
    points: float | None
    weight: float = Field(
        ..., description="Share of the dimension, in %, among metrics with a value."
    )
    contribution: float | None = Field(
        None, description="Points this metric adds to the total score."
    )
    read_as_now: bool = Field(
        False,
        description="On a past day: the value is as it is now, not as it was then "
        "(attributes have no history).",
    )


class DimensionOut(Schema):
    key: str
    label: str
    score: float | None
    weight: float = Field(
        ..., description="Share of the total, in %, among dimensions with a value."
    )
    metrics: list[MetricOut]


class MoveOut(Schema):
    metric: str
    label: str
    to: float | None
    rank: str
    from_: float | str | None = Field(None, alias="from")


class NamedOut(Schema):
    id: int
    name: str


class VersionOut(Schema):
    id: int
    number: int


class RecordedOut(Schema):
    rank: str | None
    score: float | None


class HealthOut(Schema):
    account_id: int
    date: datetime.date = Field(..., description="The local day explained.")
    rank: str | None
    score: float | None
    recorded: RecordedOut | None = Field(
        ...,
        description="The rank and score stored for that day (the current health today, the "
        "history's on a past day); null when the account was never scored. The breakdown is "
        "recomputed from the inputs as of that day and differs when they changed since.",
    )
    profile: NamedOut
    version: VersionOut
    kind: str
    from_children: bool
    parent_mode: str
    rank_since: datetime.datetime | None
    computed_at: datetime.datetime | None
    dimensions: list[DimensionOut]
    to_next_rank: list[MoveOut]


class ExplainParams(Schema):
    date: datetime.date | None = Field(
        None, description="A past local day (YYYY-MM-DD) to explain; today by default."
    )


class HistoryParams(Schema):
    days: int = Field(90, ge=1, le=400)


class PointOut(Schema):
    date: datetime.date
    score: float | None
    rank: str | None
    version: int | None


class ChangeOut(Schema):
    changed_at: datetime.datetime
    from_rank: str | None
    to_rank: str | None
    score: float | None
    version: int | None


class HistoryOut(Schema):
    account_id: int
    points: list[PointOut]
    changes: list[ChangeOut]


class OverviewOut(Schema):
    paying: dict[str, int]
    population_score: float | None
    other_statuses: dict[str, dict[str, int]]


class RecomputeOut(Schema):
    accounts: int
    changed: int
    rank_changes: int
    seconds: float
    distribution: dict[str, int]


@router.get(
    "/accounts/{int:id}/health",
    response={200: HealthOut, **ERRORS},
    summary="Explain an account's health, today or on a past day",
    description=(
        "Each dimension and metric with its value, grade, points, weight and contribution, "
        "the profile and version used and what would lift the account a rank. With `date`, "
        "as of that local day: the version the account's history recorded then, on the "
        "inputs as of that day. A day after today, before the account's history, or scored "
        "by a profile deleted since is a 422 naming `date`."
    ),
    by_alias=True,  # to_next_rank's "from"
)
def account_health(request, id: int, params: Query[ExplainParams]):
    account = get_for(request.auth, Account.objects.select_related("workspace"), READ, pk=id)
    return queries.explain_account(account, queries.parse_date(params.date))


@router.get(
    "/accounts/{int:id}/health/history",
    response={200: HistoryOut, **ERRORS},
    summary="An account's health over the last days",
)
def account_health_history(request, id: int, params: Query[HistoryParams]):
    account = get_for(request.auth, Account.objects.select_related("workspace"), READ, pk=id)
    points, changes = queries.history(account, params.days)
    return {
        "account_id": account.pk,
        "points": [p.__dict__ for p in points],
        "changes": [
            {
                "changed_at": c.changed_at,
                "from_rank": c.from_rank,
                "to_rank": c.to_rank,
                "score": c.score,
                "version": c.version.number if c.version else None,
            }
            for c in changes
        ],
    }


@router.get("/health", response={200: OverviewOut, **ERRORS}, summary="Health of the workspace")
def health_overview(request):
    actor = request.auth
    actor.require(READ)
    return queries.overview(actor.workspace)


@router.post(
    "/health/recompute",
    response={200: RecomputeOut, **ERRORS},
    summary="Score every account now",
    description="Admin scope. Answers once every account is scored and stored (for scripts and tests).",
)
def recompute(request):
    actor = request.auth
    actor.require(ADMIN)
    run = score_workspace(actor.workspace)
    return run.__dict__
