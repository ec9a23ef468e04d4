"""Custom metrics' daily series for an account or tree."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Sum

from tend.lib.dates import date_of
from tend.usage.models import (
    Metric,
    MetricValue,
)
from tend.usage.queries.windows import HISTORY_DAYS
from tend.workspaces.models import Workspace


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
