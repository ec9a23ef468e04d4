"""The health panel of the account profile: rank, score and their trend, every dimension and
metric with what it contributed, what would lift the account a rank, and 90 days of history
with the changes of rank and of profile version marked.

``health_panel`` is the panel's context (see ``tend.health.extensions``). The explanation is
recomputed by :func:`tend.health.queries.explain_account` with the scorer that stored the
score, so its figures add up to it. It explains today, or any past day: a day picked in the
panel, a change of rank, or a day clicked on the history chart asks
:func:`account_explanation` for the explanation of that day (htmx), and the profile's
address keeps the day (``?health_date=``) so that a reload shows it again.
"""

from urllib.parse import urlencode

from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from tend.accounts.models import Account, AccountStatus
from tend.accounts.views.accounts.common import account_for, member_required
from tend.health import sources
from tend.health.models import AccountHealth, ProfileVersion, Rank
from tend.health.queries import HISTORY_DAYS, explain_account, history, parse_date
from tend.health.scoring import RANKS, Definition, DefinitionError, MetricRule, parse_definition
from tend.lib.dates import date_of, zone
from tend.lib.errors import InvalidInput

DAY_PARAMETER = "health_date"  # the profile's query-string parameter of the day explained

TREND_WINDOWS = (7, 30)


def number(value) -> str:
    """A metric value as it reads in a table: 4, 3.5, 1,200, 0.25; text as it is."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if float(value).is_integer():
            return f"{int(value):,}"
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    text = str(value)
    return text[:1].upper() + text[1:]


def rule_text(rule: MetricRule | None) -> str:
    """How a metric is graded, in words: "Good at 4 or more · Poor below 1"."""
    if rule is None:
        return ""
    if rule.grading == "thresholds":
        if rule.direction == "higher":
            text = f"Good at {number(rule.good)} or more · Poor below {number(rule.poor)}"
        else:
            text = f"Good at {number(rule.good)} or less · Poor above {number(rule.poor)}"
    elif rule.grading == "linear":
        low, high = number(rule.low), number(rule.high)
        text = (
            f"0 points at {low}, 100 at {high}"
            if rule.direction == "higher"
            else f"100 points at {low}, 0 at {high}"
        )
    else:
        by_grade: dict[int, list[str]] = {}
        for value, grade in rule.categories:
            by_grade.setdefault(grade, []).append(str(value))
        text = " · ".join(
            f"{RANKS[grade].capitalize()}: {', '.join(values)}"
            for grade, values in sorted(by_grade.items(), reverse=True)
        )
    if rule.missing != "ignore":
        text += f" · no value counts as {rule.missing.capitalize()}"
    return text


def _definition_of(version_id: int) -> Definition | None:
    definition = (
        ProfileVersion.objects.filter(pk=version_id).values_list("definition", flat=True).first()
    )
    try:
        return parse_definition(definition)
    except DefinitionError:
        return None


def thresholds_text(definition: Definition | None) -> str:
    """How a weighted profile's score maps to a rank: "Good from 70 · Poor below 40"."""
    if definition is None or definition.kind != "weighted":
        return ""
    good, poor = definition.thresholds["good"], definition.thresholds["poor"]
    return f"Good from {number(good)} · Poor below {number(poor)}"


def _dimensions(explanation: dict, rules: dict[str, MetricRule]) -> list[dict]:
    weighted = explanation["kind"] == "weighted"
    dimensions = []
    for dimension in explanation["dimensions"]:
        metrics = [
            {
                **metric,
                "shown_value": number(metric["value"]),
                "rule": rule_text(rules.get(metric["id"])),
            }
            for metric in dimension["metrics"]
        ]
        contributions = [m["contribution"] for m in metrics if m["contribution"] is not None]
        dimensions.append(
            {
                **dimension,
                "metrics": metrics,
                "contribution": round(sum(contributions), 1)
                if weighted and contributions
                else None,
            }
        )
    return dimensions


def _moves(explanation: dict) -> list[dict]:
    return [
        {
            "label": move["label"],
            "from": number(move["from"]) or "no value",
            "to": number(move["to"]),
            "rank": move["rank"],
            "rank_label": Rank(move["rank"]).label,
        }
        for move in explanation["to_next_rank"]
    ]


def _history_chart(points, changes, tz, explain_url: str = "") -> dict:
    """The 90 days as the chart draws them: scores, ranks, and the marks of rank changes
    and profile versions (on the day they first scored the account)."""
    dates = [p.date.isoformat() for p in points]
    index = {d: i for i, d in enumerate(dates)}
    marks = []
    for change in changes:
        day = timezone.localtime(change.changed_at, tz).date().isoformat()
        if day in index and change.to_rank:
            marks.append(
                {
                    "index": index[day],
                    "rank": change.to_rank,
                    "text": (
                        f"{Rank(change.from_rank).label} → {Rank(change.to_rank).label}"
                        if change.from_rank
                        else f"First scored {Rank(change.to_rank).label}"
                    ),
                }
            )
    versions, previous = [], None
    for i, point in enumerate(points):
        if point.version is not None and previous is not None and point.version != previous:
            versions.append({"index": i, "text": f"v{point.version}"})
        if point.version is not None:
            previous = point.version
    return {
        "dates": dates,
        "labels": [f"{p.date:%b} {p.date.day}" for p in points],
        "scores": [p.score for p in points],
        "ranks": [p.rank for p in points],
        "changes": marks,
        "versions": versions,
        # A click on a day asks for its explanation (``?date=`` added by the chart).
        "explain_url": explain_url,
    }


def _trend(points) -> list[dict]:
    """The score now against 7 and 30 days ago (when it had one then)."""
    if not points or points[-1].score is None:
        return []
    now = points[-1].score
    found = []
    for days in TREND_WINDOWS:
        if days < len(points) and points[-1 - days].score is not None:
            delta = round(now - points[-1 - days].score, 1)
            found.append(
                {
                    "days": days,
                    "delta": delta,
                    "direction": "up" if delta > 0 else "down" if delta < 0 else "flat",
                }
            )
    return found


def _ingestion_url() -> str:
    try:
        return reverse("usage:ingestion")
    except NoReverseMatch:
        return ""


def _profile_url(account, day=None) -> str:
    """The account's profile, explaining ``day`` (a date) when it is not today."""
    url = reverse("accounts:profile", args=[account.pk])
    return f"{url}?{urlencode({DAY_PARAMETER: day.isoformat()})}" if day else url


def explanation_context(account, raw_date: str) -> dict:
    """The explanation block's context for the day ``raw_date`` (``YYYY-MM-DD``; today when
    empty). A day that cannot be explained keeps today's explanation and says why beside
    the day's field."""
    error = ""
    try:
        explanation = explain_account(account, parse_date(raw_date))
    except InvalidInput as exc:
        error = exc.message
        explanation = explain_account(account)
    today = date_of(sources.local_today(account.workspace))
    is_today = explanation["date"] == today
    recorded = explanation["recorded"]
    rank = recorded["rank"] if recorded else explanation["rank"]
    definition = _definition_of(explanation["version"]["id"])
    rules = {rule.id: rule for rule in definition.metrics} if definition else {}
    try:
        profile_url = reverse("health:profile", args=[explanation["profile"]["id"]])
    except NoReverseMatch:
        profile_url = ""
    fragment = reverse("health:account_explanation", args=[account.pk])
    dimensions = _dimensions(explanation, rules)
    return {
        "account": account,
        "explanation": explanation,
        "date": explanation["date"],
        "is_today": is_today,
        "today": today,
        "error": error,
        "raw_date": raw_date if error else "",
        "rank": rank,
        "rank_label": Rank(rank).label if rank else "",
        "recorded": recorded,
        "profile_url": profile_url,
        "url": fragment,
        "today_url": _profile_url(account),
        "dimensions": dimensions,
        "weighted": explanation["kind"] == "weighted",
        "thresholds": thresholds_text(definition),
        "moves": _moves(explanation),
        # Inputs changed since the stored score (today: rescoring follows within a minute;
        # a past day: its inputs are recomputed, attributes read as now): say so rather
        # than show a breakdown that seems not to add up.
        "stale": recorded is not None
        and (explanation["rank"], explanation["score"]) != (recorded["rank"], recorded["score"])
        and not explanation["from_children"],
        "read_as_now": [
            m["label"] for d in dimensions for m in d["metrics"] if m.get("read_as_now")
        ],
    }


def health_panel(request, account) -> dict:
    """The panel's context: one query when the account has not been scored yet."""
    health = (
        AccountHealth.objects.filter(account=account).select_related("profile", "version").first()
    )
    context = {
        "account": account,
        "health": health,
        "is_paying": account.status == AccountStatus.PAYING,
        "ingestion_url": _ingestion_url(),
        "dashboard_url": reverse("health:dashboard"),
    }
    if health is None:
        return context
    day = explanation_context(account, request.GET.get(DAY_PARAMETER, "").strip())
    explanation = day["explanation"]
    points, changes = history(account, HISTORY_DAYS)
    tz = zone(account.workspace.time_zone)
    context.update(
        profile_url=day["profile_url"],
        rank_label=Rank(health.rank).label if health.rank else "",
        explanation=explanation,
        day=day,
        trend=_trend(points),
        sparkline={"scores": [p.score for p in points], "ranks": [p.rank for p in points]},
        history_chart=_history_chart(points, changes, tz, day["url"]),
        # A line needs two days: until then the changes list says what happened.
        has_history=sum(1 for p in points if p.score is not None) > 1,
        changes=[
            {
                "change": change,
                "date": timezone.localtime(change.changed_at, tz).date(),
            }
            for change in list(reversed(changes))[:5]
        ],
    )
    return context


@member_required
@require_GET
def account_explanation(request, account_id: int):
    """htmx: the panel's explanation of the day ``?date=`` (today without it); otherwise the
    profile explaining that day."""
    account = account_for(request, account_id, Account.objects.select_related("workspace"))
    raw = (request.GET.get("date") or "").strip()
    if not request.htmx:
        url = reverse("accounts:profile", args=[account.pk])
        query = f"?{urlencode({DAY_PARAMETER: raw})}" if raw else ""
        return redirect(f"{url}{query}#health")
    context = explanation_context(account, raw)
    response = render(request, "health/panel_explanation.html", {"ex": context})
    # The address bar follows the day, so a reload explains the same day.
    shown = None if context["is_today"] else context["date"]
    push_url(response, _profile_url(account, shown))
    patch_vary_headers(response, ("HX-Request",))
    return response
