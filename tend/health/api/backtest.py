"""Back-testing a health profile through the API: how it would have ranked the accounts that
churned, some days before they churned, against the accounts that stayed.

Read scope (nothing is written); a profile of another workspace answers 404.
"""

import datetime
from typing import Literal

from ninja import Field, Router, Schema

from tend.accounts.schemas import Strict
from tend.health import backtest as backtesting
from tend.health.models import HealthProfile
from tend.lib.api_schemas import ERRORS
from tend.workspaces.access import READ, get_for

router = Router(tags=["health profiles"])
MAX_LISTED = 1000


class BacktestIn(Strict):
    days_before: Literal[30, 60, 90] = Field(
        30, description="Score each churned account this many days before it churned."
    )
    lookback_days: int = Field(
        backtesting.DEFAULT_LOOKBACK,
        ge=backtesting.LOOKBACK_RANGE[0],
        le=backtesting.LOOKBACK_RANGE[1],
        description="Accounts that churned in this many days up to today are tested.",
    )
    version: int | None = Field(
        None, ge=1, description="A saved version's number; by default the current version."
    )
    definition: dict | None = Field(
        None,
        description="A draft definition to test instead of a saved version (checked as "
        "saving checks it; docs/health.md).",
    )
    limit: int = Field(
        100, ge=0, le=MAX_LISTED, description="Churned accounts listed, the latest churn first."
    )


class NamedOut(Schema):
    id: int
    name: str


class CountsOut(Schema):
    churned: int = Field(..., description="Accounts that churned in the look-back period.")
    compared_churned: int = Field(..., description="Churned accounts scored and compared.")
    compared_others: int = Field(..., description="Accounts that stayed, scored and compared.")
    left_out: dict[str, int] = Field(
        ...,
        description="Churned accounts not compared, by reason: before_history (no usage "
        "history a month before the day), not_paying (not paying on the day), unscored.",
    )
    others_left_out: int = Field(
        ..., description="Accounts that stayed but were not paying (or had no score) that day."
    )
    from_snapshots: int = Field(
        ..., description="Scores taken from the stored history instead of recomputed."
    )


class MetricOut(Schema):
    id: str
    label: str
    source: str
    auc: float | None = Field(..., description="ROC AUC of this metric alone.")
    churned: int = Field(..., description="Churned accounts with a value.")
    others: int = Field(..., description="Accounts that stayed with a value.")
    churned_median: float | None
    others_median: float | None
    read_as_now: bool = Field(
        ..., description="Read as it is now on past days (an attribute): may be flattered."
    )


class ChurnedOut(Schema):
    account_id: int
    name: str
    external_id: str
    churned_on: datetime.date
    as_of: datetime.date
    rank: str | None
    score: float | None
    from_snapshot: bool
    left_out: str | None


class BinsOut(Schema):
    churned: list[int]
    others: list[int]


class BacktestOut(Schema):
    profile: NamedOut
    version: int | None = Field(..., description="The version tested; null for a draft.")
    days_before: int
    lookback_days: int
    history_starts: datetime.date | None = Field(
        ..., description="The first day an account can be scored as of (usage profiles)."
    )
    counts: CountsOut
    churned_poor: float | None = Field(..., description="Share of churned accounts ranked Poor.")
    churned_average: float | None = Field(..., description="Share ranked Average.")
    churned_good: float | None = Field(..., description="Share ranked Good.")
    false_alarm_rate: float | None = Field(
        ..., description="Share of the accounts that stayed ranked Poor."
    )
    auc: float | None = Field(
        ..., description="ROC AUC of the score: churned = positive, a lower score is riskier."
    )
    best_metric: MetricOut | None = Field(
        ..., description="The metric that separated churned accounts best (highest AUC)."
    )
    metrics: list[MetricOut]
    roc: list[tuple[float, float]] = Field(..., description="(false alarms, caught) points.")
    score_bins: BinsOut = Field(..., description="Scores in ten bins of 0–100, per group.")
    churned_accounts: list[ChurnedOut]
    churned_accounts_total: int


def report_out(report: backtesting.Report, limit: int) -> dict:
    counts = {
        "churned": len(report.churned),
        "compared_churned": report.compared_churned,
        "compared_others": report.compared_others,
        "left_out": report.left_out,
        "others_left_out": report.others_left_out,
        "from_snapshots": report.from_snapshots,
    }
    shares = report.churned_ranks or {}
    return {
        "profile": {"id": report.profile.pk, "name": report.profile.name},
        "version": report.version.number if report.version else None,
        "days_before": report.days_before,
        "lookback_days": report.lookback_days,
        "history_starts": report.history_starts,
        "counts": counts,
        "churned_poor": shares.get("poor"),
        "churned_average": shares.get("average"),
        "churned_good": shares.get("good"),
        "false_alarm_rate": report.false_alarm_rate,
        "auc": report.auc,
        "best_metric": report.best.__dict__ if report.best else None,
        "metrics": [m.__dict__ for m in report.metrics],
        "roc": report.roc,
        "score_bins": report.bins or {"churned": [], "others": []},
        "churned_accounts": [a.__dict__ for a in report.churned[:limit]],
        "churned_accounts_total": len(report.churned),
    }


@router.post(
    "/health/profiles/{int:id}/backtest",
    response={200: BacktestOut, **ERRORS},
    summary="Back-test a profile against churn",
    description=(
        "Read scope; nothing is saved. Scores every account that churned in the last "
        "`lookback_days` as it was `days_before` (30, 60 or 90) days before it churned — with "
        "the profile's current version, another `version`, or a draft `definition` — and "
        "compares it with the accounts that stayed, scored on the same dates. Answer: the "
        "share of churned accounts ranked Poor and Average, the false-alarm rate, ROC AUC, "
        "each metric's AUC and the best one, the ROC curve and score distributions, and the "
        "churned accounts with their rank and score then."
    ),
)
def backtest(request, id: int, payload: BacktestIn):
    profile = get_for(
        request.auth, HealthProfile.objects.select_related("current_version"), READ, pk=id
    )
    report = backtesting.backtest(
        profile,
        days_before=payload.days_before,
        lookback_days=payload.lookback_days,
        version=payload.version,
        definition=payload.definition,
    )
    return report_out(report, payload.limit)
