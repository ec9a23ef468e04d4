"""Where health metrics come from: one source per prefix, read for whole populations.

A metric in a profile names a source (``usage.active_users_14d``, ``attributes.renewal_date``,
``metrics.api_calls``) and optional parameters (``{"as": "days_until"}``,
``{"aggregate": "sum", "days": 30}``). Each source reads the values of every account it is
asked for in a few queries and returns arrays aligned on the account ids: numbers as floats
with NaN for missing, categories as objects with None.

**As of a day.** Every read names a local day. Today's values are the live ones (the usage
metrics row each account has, ``AccountUsage``); a past day's are what the sources knew at
the end of that day, for the back-test and the replay of health history:

* usage metrics are recomputed from the daily rollups by the usage app's own rules
  (:mod:`tend.usage.past`), engagement included (its peers grouped by the status each
  account had that day, from the status history); an account not yet seen that day has none;
* attributes have no history: they are read as they are now, but dates count their days from
  that day (days to renewal 30 days ago is today's plus 30);
* custom metrics are aggregated over the window ending on that day.

:func:`read_days` answers many days at once, loading what they share once.

**Extension point.** Later data (open tasks overdue, days since the last touchpoint, NPS,
support tickets, revenue) plugs in with :func:`register`: a :class:`Source` answers which
metrics it offers (for the profile editor and for validation) and reads their values. The
scorer never changes.
"""

import datetime
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from django.db.models import Avg, Sum

from tend.accounts.models import Account, AttributeDefinition, AttributeType, ObjectType
from tend.health.past_metrics import aggregates_on_days
from tend.health.scoring import MetricRule
from tend.lib.dates import day_number, today, zone
from tend.usage.models import AccountUsage, Metric, MetricLatest, MetricValue, VisitFrequency
from tend.usage.past import PastUsage
from tend.usage.queries.metrics import latest_metric_values, latest_on
from tend.workspaces.models import Workspace

NUMBER, CATEGORY = "number", "category"
# Up to this many accounts a source reads just them (explaining one account); above it, the
# whole workspace in one pass (scoring everyone), which is cheaper than a long IN list.
FEW = 1000


def _of(queryset, ids: np.ndarray, column: str = "account_id"):
    """``queryset`` narrowed to ``ids`` when they are few."""
    return queryset.filter(**{f"{column}__in": ids.tolist()}) if len(ids) <= FEW else queryset


@dataclass(frozen=True)
class MetricChoice:
    """A metric a profile may use: what the editor lists and validation accepts."""

    source: str
    label: str
    kind: str  # NUMBER or CATEGORY
    group: str  # "Usage", "Attributes", "Custom metrics" …
    params: tuple = ()  # the parameters it takes, e.g. ("aggregate", "days")
    categories: tuple = ()  # for CATEGORY: the values it takes


class Source(ABC):
    """A family of metrics under one prefix (``usage.``, ``attributes.``, ``metrics.``)."""

    prefix = ""
    # Whether a past day's values are what they were that day (False: as they are now).
    has_history = True

    @abstractmethod
    def choices(self, workspace: Workspace) -> list[MetricChoice]:
        """The metrics this source offers the workspace."""

    @abstractmethod
    def values(
        self, workspace: Workspace, ids: np.ndarray, rules: list[MetricRule], day: int
    ) -> dict:
        """Input key → array aligned on ``ids`` for each rule, as of local day ``day``."""

    def values_on_days(
        self, workspace: Workspace, ids: np.ndarray, rules: list[MetricRule], days: list[int]
    ) -> Iterator[tuple[int, dict]]:
        """(day, inputs) for each of ``days`` in order; a source whose days share work (one
        load of the rollups for a span of days) answers them together."""
        for day in days:
            yield day, self.values(workspace, ids, rules, day)


_sources: dict[str, Source] = {}


def register(source: Source) -> None:
    _sources[source.prefix] = source


def source_for(key: str) -> Source | None:
    prefix = key.split(".", 1)[0] + "."
    return _sources.get(prefix)


def choices(workspace: Workspace) -> list[MetricChoice]:
    return [choice for source in _sources.values() for choice in source.choices(workspace)]


def exists(workspace: Workspace):
    """A ``source_exists`` check for :func:`tend.health.scoring.parse_definition`."""
    known = {choice.source for choice in choices(workspace)}
    return lambda key: key in known


def _by_source(rules: Iterable[MetricRule]) -> dict:
    by_source: dict[Source, list[MetricRule]] = defaultdict(list)
    for rule in rules:
        source = source_for(rule.source)
        if source is None:
            raise LookupError(f"no source for {rule.source!r}")
        by_source[source].append(rule)
    return by_source


def read(workspace: Workspace, ids: np.ndarray, rules: Iterable[MetricRule], day: int) -> dict:
    """Every input the rules need, for the accounts ``ids``, as of local day ``day``."""
    inputs = {}
    for source, source_rules in _by_source(rules).items():
        inputs.update(source.values(workspace, ids, source_rules, day))
    return inputs


def read_days(
    workspace: Workspace, ids: np.ndarray, rules: Iterable[MetricRule], days: Iterable[int]
) -> Iterator[tuple[int, dict]]:
    """(day, every input the rules need for ``ids`` as of that day) for each of ``days``,
    in ascending order. What the days share is loaded once per span of days."""
    wanted = sorted(set(days))
    streams = [
        source.values_on_days(workspace, ids, source_rules, wanted)
        for source, source_rules in _by_source(rules).items()
    ]
    for day in wanted:
        inputs = {}
        for stream in streams:
            answered, values = next(stream)
            if answered != day:
                raise RuntimeError(f"a source answered day {answered} for day {day}")
            inputs.update(values)
        yield day, inputs


def _aligned(ids: np.ndarray, found: dict, missing, dtype=float) -> np.ndarray:
    return np.array([found.get(i, missing) for i in ids.tolist()], dtype=dtype)


# --- usage ---------------------------------------------------------------------------------------

USAGE_NUMBERS = {
    "events_today": "Events today",
    "events_yesterday": "Events yesterday",
    "events_3d": "Events, last 3 days",
    "events_7d": "Events, last 7 days",
    "events_14d": "Events, last 14 days",
    "events_30d": "Events, last 30 days",
    "events_90d": "Events, last 90 days",
    "active_users_7d": "Active users, last 7 days",
    "active_users_14d": "Active users, last 14 days",
    "active_users_30d": "Active users, last 30 days",
    "active_days_14d": "Active days, last 14 days",
    "seconds_7d": "Time spent (seconds), last 7 days",
    "seconds_30d": "Time spent (seconds), last 30 days",
    "engagement": "Engagement (0–100)",
    "licence_utilisation": "Licence utilisation",
}
USAGE_DERIVED = {
    "days_since_last_seen": "Days since last seen",
    "modules_30d": "Modules used, last 30 days",
}


class UsageSource(Source):
    """The usage metrics of each account: today the live row (``AccountUsage``), a past day
    recomputed from the rollups (:mod:`tend.usage.past`)."""

    prefix = "usage."

    def choices(self, workspace: Workspace) -> list[MetricChoice]:
        numbers = {**USAGE_NUMBERS, **USAGE_DERIVED}
        found = [
            MetricChoice(f"usage.{key}", label, NUMBER, "Usage") for key, label in numbers.items()
        ]
        frequencies = tuple(VisitFrequency.values)
        found.append(
            MetricChoice(
                "usage.visit_frequency",
                "Visit frequency",
                CATEGORY,
                "Usage",
                categories=frequencies,
            )
        )
        return found

    def values(
        self, workspace: Workspace, ids: np.ndarray, rules: list[MetricRule], day: int
    ) -> dict:
        if day < local_today(workspace):
            return next(self.values_on_days(workspace, ids, rules, [day]))[1]
        return self._live(workspace, ids, rules, day)

    def values_on_days(
        self, workspace: Workspace, ids: np.ndarray, rules: list[MetricRule], days: list[int]
    ) -> Iterator[tuple[int, dict]]:
        today = local_today(workspace)
        past = [day for day in days if day < today]
        if past:
            names = {rule.source.removeprefix("usage.") for rule in rules}
            for day, found in PastUsage(workspace, ids, names).days(past):
                yield (
                    day,
                    {rule.input_key: found[rule.source.removeprefix("usage.")] for rule in rules},
                )
        for day in days:
            if day >= today:
                yield day, self._live(workspace, ids, rules, day)

    def _live(
        self, workspace: Workspace, ids: np.ndarray, rules: list[MetricRule], day: int
    ) -> dict:
        names = sorted({rule.source.removeprefix("usage.") for rule in rules})
        columns = [n for n in names if n in USAGE_NUMBERS or n == "visit_frequency"]
        if "days_since_last_seen" in names:
            columns.append("last_seen_ms")
        if "modules_30d" in names:
            columns.append("modules_30d")
        rows = {
            row[0]: row[1:]
            for row in AccountUsage.objects.filter(workspace=workspace).values_list(
                "account_id", *columns
            )
        }
        position = {name: i for i, name in enumerate(columns)}
        tz = zone(workspace.time_zone)
        inputs = {}
        for rule in rules:
            name = rule.source.removeprefix("usage.")
            if name == "visit_frequency":
                found = {k: v[position[name]] for k, v in rows.items()}
                inputs[rule.input_key] = _aligned(ids, found, None, dtype=object)
            elif name == "days_since_last_seen":
                found = {}
                for k, v in rows.items():
                    ms = v[position["last_seen_ms"]]
                    if ms is not None:
                        seen = (
                            datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)
                            .astimezone(tz)
                            .date()
                        )
                        found[k] = day - day_number(seen)
                inputs[rule.input_key] = _aligned(ids, found, np.nan)
            elif name == "modules_30d":
                found = {k: len(v[position["modules_30d"]] or []) for k, v in rows.items()}
                inputs[rule.input_key] = _aligned(ids, found, np.nan)
            else:
                found = {
                    k: v[position[name]] for k, v in rows.items() if v[position[name]] is not None
                }
                inputs[rule.input_key] = _aligned(ids, found, np.nan)
        return inputs


# --- attributes ---------------------------------------------------------------------------------

NUMERIC_TYPES = (AttributeType.NUMBER, AttributeType.CURRENCY)


class AttributeSource(Source):
    """Account attributes: numbers as they are, dates as days until or since (``params.as``),
    yes/no as 1/0, one-of-a-list values as categories."""

    prefix = "attributes."
    has_history = False

    def _definitions(self, workspace: Workspace) -> dict:
        return {
            d.key: d
            for d in AttributeDefinition.objects.filter(
                workspace=workspace, object_type=ObjectType.ACCOUNT
            )
        }

    def choices(self, workspace: Workspace) -> list[MetricChoice]:
        found = []
        for key, d in self._definitions(workspace).items():
            source = f"attributes.{key}"
            if d.type in NUMERIC_TYPES:
                found.append(MetricChoice(source, d.label, NUMBER, "Attributes"))
            elif d.type == AttributeType.DATE:
                found.append(MetricChoice(source, d.label, NUMBER, "Attributes", params=("as",)))
            elif d.type == AttributeType.BOOLEAN:
                found.append(MetricChoice(source, d.label, NUMBER, "Attributes"))
            elif d.type == AttributeType.ENUM:
                found.append(
                    MetricChoice(
                        source, d.label, CATEGORY, "Attributes", categories=tuple(d.options)
                    )
                )
        return found

    def values(
        self, workspace: Workspace, ids: np.ndarray, rules: list[MetricRule], day: int
    ) -> dict:
        definitions = self._definitions(workspace)
        attributes = dict(
            Account.objects.filter(workspace=workspace).values_list("id", "attributes")
        )
        inputs = {}
        for rule in rules:
            key = rule.source.removeprefix("attributes.")
            definition = definitions.get(key)
            raw = {pk: (values or {}).get(key) for pk, values in attributes.items()}
            if definition is not None and definition.type == AttributeType.ENUM:
                inputs[rule.input_key] = _aligned(ids, raw, None, dtype=object)
                continue
            found = {}
            for pk, value in raw.items():
                number = self._number(definition, value, dict(rule.params), day)
                if number is not None:
                    found[pk] = number
            inputs[rule.input_key] = _aligned(ids, found, np.nan)
        return inputs

    def values_on_days(
        self, workspace: Workspace, ids: np.ndarray, rules: list[MetricRule], days: list[int]
    ) -> Iterator[tuple[int, dict]]:
        """Attributes have no history: read once, dates counted again from each day."""
        if not days:
            return
        first = days[0]
        base = self.values(workspace, ids, rules, first)
        definitions = self._definitions(workspace)
        # Days until a date shrink by one a day later; days since it grow by one.
        step = {}
        for rule in rules:
            definition = definitions.get(rule.source.removeprefix("attributes."))
            if definition is not None and definition.type == AttributeType.DATE:
                step[rule.input_key] = 1 if dict(rule.params).get("as") == "days_since" else -1
        for day in days:
            yield (
                day,
                {
                    key: values + step[key] * (day - first) if key in step else values
                    for key, values in base.items()
                },
            )

    @staticmethod
    def _number(definition, value, params: dict, day: int) -> float | None:
        if value is None or definition is None:
            return None
        if definition.type == AttributeType.DATE:
            try:
                days = day_number(datetime.date.fromisoformat(str(value)[:10])) - day
            except ValueError:
                return None
            return float(-days if params.get("as") == "days_since" else days)
        if definition.type == AttributeType.BOOLEAN:
            return 1.0 if value else 0.0
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return None


# --- custom metrics -----------------------------------------------------------------------------

AGGREGATES = ("latest", "sum", "avg", "change", "change_pct")


class CustomMetricSource(Source):
    """Custom time-series metrics (``MetricValue``): the latest value, or the sum, average,
    change or change in % over the last ``days`` days (``params``: aggregate, days)."""

    prefix = "metrics."

    def choices(self, workspace: Workspace) -> list[MetricChoice]:
        return [
            MetricChoice(
                f"metrics.{m.key}", m.label, NUMBER, "Custom metrics", params=("aggregate", "days")
            )
            for m in Metric.objects.filter(workspace=workspace)
        ]

    def values(
        self, workspace: Workspace, ids: np.ndarray, rules: list[MetricRule], day: int
    ) -> dict:
        metrics = {m.key: m.pk for m in Metric.objects.filter(workspace=workspace)}
        inputs = {}
        for rule in rules:
            params = dict(rule.params)
            aggregate = params.get("aggregate", "latest")
            days = int(params.get("days", 30))
            metric_id = metrics.get(rule.source.removeprefix("metrics."))
            found = (
                {}
                if metric_id is None
                else self._aggregate(workspace, metric_id, aggregate, days, day, ids)
            )
            inputs[rule.input_key] = _aligned(ids, found, np.nan)
        return inputs

    def values_on_days(
        self, workspace: Workspace, ids: np.ndarray, rules: list[MetricRule], days: list[int]
    ) -> Iterator[tuple[int, dict]]:
        """Each metric read once for a span of days (:mod:`tend.health.past_metrics`)."""
        if len(days) == 1:
            yield days[0], self.values(workspace, ids, rules, days[0])
            return
        metrics = {m.key: m.pk for m in Metric.objects.filter(workspace=workspace)}
        streams = {}
        for rule in rules:
            params = dict(rule.params)
            metric_id = metrics.get(rule.source.removeprefix("metrics."))
            if metric_id is not None:
                streams[rule.input_key] = aggregates_on_days(
                    metric_id,
                    ids,
                    params.get("aggregate", "latest"),
                    int(params.get("days", 30)),
                    days,
                )
        for day in days:
            found = {key: next(stream)[1] for key, stream in streams.items()}
            yield (
                day,
                {
                    rule.input_key: found.get(rule.input_key, np.full(len(ids), np.nan))
                    for rule in rules
                },
            )

    @staticmethod
    def _aggregate(
        workspace: Workspace, metric_id: int, aggregate: str, days: int, day: int, ids: np.ndarray
    ) -> dict:
        if aggregate == "latest":
            # The latest value up to the day, if it falls in the window: one row per account
            # (the usage app keeps them), rather than the window's whole series. Today's in
            # the parts that let the database read rows alone; a past day's in one pass.
            if day >= local_today(workspace):
                parts = latest_metric_values(workspace.pk, metric_id, day)
            else:
                parts = (
                    MetricLatest.objects.filter(workspace=workspace, metric_id=metric_id).annotate(
                        latest=latest_on(metric_id, day),
                        latest_day=latest_on(metric_id, day, "day"),
                    ),
                )
            found = {}
            for part in parts:
                found.update(
                    _of(part, ids)
                    .filter(latest_day__gt=day - days)
                    .values_list("account_id", "latest")
                )
            return found
        window = _of(
            MetricValue.objects.filter(metric_id=metric_id, day__gt=day - days, day__lte=day), ids
        )
        if aggregate in ("sum", "avg"):
            function = Sum("value") if aggregate == "sum" else Avg("value")
            return dict(
                window.order_by()
                .values("account_id")
                .annotate(v=function)
                .values_list("account_id", "v")
            )
        latest = {}
        earliest = {}
        for account_id, value_day, value in window.order_by("day").values_list(
            "account_id", "day", "value"
        ):
            earliest.setdefault(account_id, (value_day, value))
            latest[account_id] = value
        changes = {}
        for account_id, value in latest.items():
            first = earliest[account_id][1]
            if aggregate == "change":
                changes[account_id] = value - first
            elif first:
                changes[account_id] = 100.0 * (value - first) / abs(first)
        return changes


register(UsageSource())
register(AttributeSource())
register(CustomMetricSource())


def local_today(workspace: Workspace, now=None) -> int:
    return today(zone(workspace.time_zone), now)
