"""The back-test report of a health profile: how it would have ranked the accounts that
churned, 30, 60 or 90 days before they churned, against the accounts that stayed.

Every member may read it (nothing is written); another workspace's profile answers 404. The
figures come from :func:`tend.health.backtest.backtest`, the same as the API's.
"""

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tend.accounts.views.accounts.common import member_required
from tend.health import backtest as backtesting
from tend.health.models import HealthProfile, ProfileVersion
from tend.workspaces.access import READ, get_for

CHURNED_PAGE_SIZE = 25
VERSIONS_LISTED = 50
LOOKBACK_CHOICES = [(180, "6 months"), (365, "year"), (730, "2 years")]
# How a person reads an AUC (0.5: no better than a coin toss).
AUC_WORDS = [(0.9, "excellent"), (0.8, "good"), (0.7, "fair"), (0.6, "weak"), (0.0, "poor")]


class BacktestForm(forms.Form):
    days_before = forms.TypedChoiceField(
        label="Days before churn",
        choices=[(d, f"{d} days") for d in backtesting.DAYS_BEFORE],
        coerce=int,
        initial=30,
    )
    version = forms.TypedChoiceField(label="Version", coerce=int, required=False)
    lookback_days = forms.TypedChoiceField(
        label="Churned in the last", choices=LOOKBACK_CHOICES, coerce=int, initial=365
    )

    def __init__(self, data, versions: list[ProfileVersion], current: int | None):
        super().__init__(data)
        self.fields["version"].choices = [
            (v.number, f"{v.number} (current)" if v.number == current else str(v.number))
            for v in versions
        ]


def auc_words(auc: float | None) -> str:
    if auc is None:
        return ""
    return next(words for floor, words in AUC_WORDS if auc >= floor)


def percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def chart_data(report: backtesting.Report) -> dict:
    """The score distributions (each group in % of itself, so sizes compare) and ROC curve."""
    width = 100 // backtesting.SCORE_BINS
    labels = [f"{i}–{i + width}" for i in range(0, 100, width)]

    def shares(counts: list[int]) -> list[float]:
        total = sum(counts)
        return [round(100 * c / total, 1) if total else 0 for c in counts]

    return {
        "bins": labels,
        "churned": shares(report.bins.get("churned", [])),
        "others": shares(report.bins.get("others", [])),
        "churned_counts": report.bins.get("churned", []),
        "others_counts": report.bins.get("others", []),
        "roc": [[round(100 * x, 1), round(100 * y, 1)] for x, y in report.roc],
    }


@member_required
@require_GET
def profile_backtest(request, profile_id: int):
    profile = get_for(
        request.actor, HealthProfile.objects.select_related("current_version"), READ, pk=profile_id
    )
    versions = list(
        ProfileVersion.objects.filter(profile=profile)
        .order_by("-number")
        .only("number", "note", "created_at")[:VERSIONS_LISTED]
    )
    current = profile.current_version.number if profile.current_version else None
    data = request.GET.copy()
    for name, value in (("days_before", 30), ("lookback_days", 365), ("version", current)):
        data.setdefault(name, value)
    form = BacktestForm(data, versions, current)
    context = {"profile": profile, "form": form, "report": None}
    if not form.is_valid():
        return render(request, "health/backtest.html", context, status=422)
    chosen = form.cleaned_data
    report = backtesting.backtest(
        profile,
        days_before=chosen["days_before"],
        lookback_days=chosen["lookback_days"],
        version=chosen["version"] or None,
    )
    churned = Paginator(report.churned, CHURNED_PAGE_SIZE).get_page(request.GET.get("page"))
    shares = report.churned_ranks or {}
    poor, average = percent(shares.get("poor")), percent(shares.get("average"))
    context.update(
        report=report,
        churned=churned,
        poor=poor,
        average=average,
        poor_or_average=None if poor is None else round(poor + average, 1),
        false_alarms=percent(report.false_alarm_rate),
        auc_words=auc_words(report.auc),
        best_words=auc_words(report.best.auc) if report.best else "",
        charts=chart_data(report),
        attribute_metrics=[m for m in report.metrics if m.read_as_now],
        reasons=[
            (backtesting.REASONS[key], count) for key, count in report.left_out.items() if count
        ],
        page_query=_without_page(request),
    )
    return render(request, "health/backtest.html", context)


def _without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
