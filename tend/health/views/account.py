"""The health panel of the account profile: rank, score and their trend, every dimension and
metric with what it contributed, what would lift the account a rank, and 90 days of history
with the changes of rank and of profile version marked.

``health_panel`` is the panel's context (see ``tend.health.extensions``). The explanation is
recomputed by :func:`tend.health.queries.explain_account` with the scorer that stored the
score, so its figures add up to it.
"""

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from tend.accounts.models import AccountStatus
from tend.health.models import AccountHealth, ProfileVersion, Rank
from tend.health.queries import HISTORY_DAYS, explain_account, history
from tend.health.scoring import RANKS, Definition, DefinitionError, MetricRule, parse_definition
from tend.lib.dates import zone

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


def _history_chart(points, changes, tz) -> dict:
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
    explanation = explain_account(account)
    points, changes = history(account, HISTORY_DAYS)
    tz = zone(account.workspace.time_zone)
    definition = _definition_of(explanation["version"]["id"])
    rules = {rule.id: rule for rule in definition.metrics} if definition else {}
    try:
        profile_url = reverse("health:profile", args=[explanation["profile"]["id"]])
    except NoReverseMatch:
        profile_url = ""
    context.update(
        profile_url=profile_url,
        rank_label=Rank(health.rank).label if health.rank else "",
        explanation=explanation,
        dimensions=_dimensions(explanation, rules),
        weighted=explanation["kind"] == "weighted",
        thresholds=thresholds_text(definition),
        moves=_moves(explanation),
        # Inputs changed since the stored score (rescoring follows within a minute): say so
        # rather than show a breakdown that seems not to add up.
        stale=(explanation["rank"], explanation["score"]) != (health.rank, health.score)
        and not explanation["from_children"],
        trend=_trend(points),
        sparkline={"scores": [p.score for p in points], "ranks": [p.rank for p in points]},
        history_chart=_history_chart(points, changes, tz),
        # A line needs two days: until then the changes list says what happened.
        has_history=sum(1 for p in points if p.score is not None) > 1,
        changes=list(reversed(changes))[:5],
    )
    return context
