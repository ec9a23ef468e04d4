"""Custom metrics: each account's latest value as of a day, and daily series for an account
or tree."""

import datetime
from dataclasses import dataclass, field

from django.db.models import (
    Case,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)

from tend.lib.dates import date_of
from tend.usage.models import (
    Metric,
    MetricLatest,
    MetricValue,
)
from tend.usage.queries.windows import HISTORY_DAYS
from tend.workspaces.models import Workspace


def latest_metric_values(workspace_id: int, metric_id: int, day: int) -> tuple[QuerySet, QuerySet]:
    """Each account's latest value of a custom metric sent for a day on or before ``day``, as
    rows annotated with ``latest`` (the value) and ``latest_day`` (its day), in two parts
    that hold different accounts:

    1. the ``MetricLatest`` rows that answer for ``day`` themselves (``day <= D <
       next_day``, see the model): for today, every row but those whose value sent ahead
       has come before the rollup job moved them (``latest`` is NULL for a row whose only
       values are still ahead);
    2. for the other accounts, their ``MetricValue`` row with no later one up to ``day``
       (an anti-join on the ``(account, metric, day)`` index, over those accounts only).

    For today the second part is empty or nearly, and the database plans each part on its
    own estimate; one expression choosing between the row and the series would be charged
    the series' cost on every row by PostgreSQL's planner, which then compiles the query
    (JIT) for longer than it runs. A past day is better read with :func:`latest_on`.
    """
    latest = MetricLatest.objects.filter(workspace_id=workspace_id, metric_id=metric_id)
    later = MetricValue.objects.filter(
        metric_id=metric_id,
        account_id=OuterRef("account_id"),
        day__gt=OuterRef("day"),
        day__lte=day,
    )
    series = (
        MetricValue.objects.filter(
            workspace_id=workspace_id,
            metric_id=metric_id,
            day__lte=day,
            account_id__in=latest.filter(_outside(day)).values("account_id"),
        )
        .filter(~Exists(later))
        .annotate(latest=F("value"), latest_day=F("day"))
    )
    return latest.filter(_holding(day)).annotate(latest=F("value"), latest_day=F("day")), series


def latest_on(metric_id: int, day: int, column: str = "value") -> Case:
    """An expression over ``MetricLatest`` rows of the metric: the ``column`` (``value`` or
    ``day``) of the account's latest value sent for a day on or before ``day`` — the row's
    own when it answers for ``day``, else read from the series by a subquery (the latest
    first, on the ``(account, metric, day)`` index) that the database runs for those rows
    only. One pass over the rows whatever the day: a change filter's value N days ago, which
    most rows do not hold."""
    series = MetricValue.objects.filter(
        account_id=OuterRef("account_id"), metric_id=metric_id, day__lte=day
    ).order_by("-day")
    return Case(
        When(_holding(day), then=F(column)),
        default=Subquery(series.values(column)[:1]),
        output_field=FloatField() if column == "value" else IntegerField(),
    )


def _holding(day: int) -> Q:
    """Latest rows that answer for ``day``: ``day <= D < next_day``, NULL meaning no bound."""
    return (Q(day__isnull=True) | Q(day__lte=day)) & (
        Q(next_day__isnull=True) | Q(next_day__gt=day)
    )


def _outside(day: int) -> Q:
    """The exact complement of :func:`_holding` (a comparison with NULL is false)."""
    return Q(day__gt=day) | Q(next_day__lte=day)


@dataclass
class MetricSeries:
    metric: Metric
    first_day: int
    last_day: int
    values: dict[int, float] = field(default_factory=dict)

    @property
    def points(self) -> list[tuple[datetime.date, float]]:
        return [(date_of(day), value) for day, value in sorted(self.values.items())]

    @property
    def latest(self) -> float | None:
        return self.values[max(self.values)] if self.values else None

    def dense(self) -> list[float | None]:
        """One value per day of the range, None where nothing was sent."""
        return [self.values.get(day) for day in range(self.first_day, self.last_day + 1)]


def metric_series(
    workspace: Workspace, metric: Metric, ids: list[int], t: int, days: int = HISTORY_DAYS
) -> MetricSeries:
    """A custom metric's daily values over ``days`` ending today, summed over ``ids``."""
    first = t - days + 1
    series = MetricSeries(metric, first, t)
    for day, value in (
        MetricValue.objects.filter(
            workspace=workspace, metric=metric, account_id__in=ids, day__gte=first, day__lte=t
        )
        .values("day")
        .annotate(total=Sum("value"))
        .values_list("day", "total")
    ):
        series.values[day] = float(value)
    return series


def account_metric_series(
    workspace: Workspace, ids: list[int], t: int, limit: int, days: int = HISTORY_DAYS
) -> tuple[list[MetricSeries], int]:
    """The custom metrics with values for ``ids`` in ``days`` (the first ``limit`` by label)
    and how many there are in all: two queries, or one when there are none."""
    first = t - days + 1
    values = MetricValue.objects.filter(
        workspace=workspace, account_id__in=ids, day__gte=first, day__lte=t
    )
    metric_ids = values.values("metric_id").distinct()
    chosen = list(
        Metric.objects.filter(workspace=workspace, pk__in=metric_ids).order_by("label", "key")
    )
    total = len(chosen)
    chosen = chosen[:limit]
    if not chosen:
        return [], 0
    series = {m.pk: MetricSeries(m, first, t) for m in chosen}
    for metric_id, day, value in (
        values.filter(metric_id__in=series)
        .values("metric_id", "day")
        .annotate(total=Sum("value"))
        .values_list("metric_id", "day", "total")
    ):
        series[metric_id].values[day] = float(value)
    return list(series.values()), total
