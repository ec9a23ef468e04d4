"""Custom metrics aggregated over windows ending on many days at once.

The custom-metric source answers one day with a query per metric; the back-test and the
replay of health history ask for dozens of days. Here each metric's values over a span of
days are read once into an account × day matrix (NaN where no value was sent), and every
aggregate the source offers is worked out for each day from it, by the same rules:

* ``sum`` and ``avg`` of the values in the window (missing when there is none);
* ``latest``: the last value in the window;
* ``change``: the latest minus the earliest value in the window; ``change_pct`` the same in
  % of the earliest (missing when the earliest is 0).
"""

from collections.abc import Iterator

import numpy as np

from tend.usage.models import MetricValue

CHUNK_DAYS = 60


def _present_before(present: np.ndarray) -> np.ndarray:
    """Per cell, the column of the last value at or before it (-1: none)."""
    columns = np.arange(present.shape[1])[None, :]
    return np.maximum.accumulate(np.where(present, columns, -1), axis=1)


def _present_after(present: np.ndarray) -> np.ndarray:
    """Per cell, the column of the first value at or after it (a large number: none)."""
    width = present.shape[1]
    columns = np.arange(width)[None, :]
    flipped = np.where(present, columns, width + 1)[:, ::-1]
    return np.minimum.accumulate(flipped, axis=1)[:, ::-1]


def aggregates_on_days(
    metric_id: int, ids: np.ndarray, aggregate: str, window: int, days: list[int]
) -> Iterator[tuple[int, np.ndarray]]:
    """(day, values aligned on ``ids``) of one metric's ``aggregate`` over the ``window``
    days ending on each of ``days`` (ascending)."""
    ids = np.asarray(ids, dtype=np.int64)
    order = np.argsort(ids)
    sorted_ids = ids[order]
    start = 0
    while start < len(days):
        stop = start
        while stop + 1 < len(days) and days[stop + 1] - days[start] < CHUNK_DAYS:
            stop += 1
        yield from _chunk(metric_id, sorted_ids, order, aggregate, window, days[start : stop + 1])
        start = stop + 1


def _chunk(metric_id, sorted_ids, order, aggregate, window, days):
    base, last = days[0] - window + 1, days[-1]
    rows = list(
        MetricValue.objects.filter(metric_id=metric_id, day__gte=base, day__lte=last)
        .order_by()
        .values_list("account_id", "day", "value")
    )
    data = np.array(rows, dtype=float).reshape(-1, 3)
    account = data[:, 0].astype(np.int64)
    where = np.minimum(np.searchsorted(sorted_ids, account), max(len(sorted_ids) - 1, 0))
    known = sorted_ids[where] == account if len(sorted_ids) else np.zeros(len(account), bool)
    shape = (len(sorted_ids), last - base + 1)
    values = np.full(shape, np.nan)
    values[where[known], data[known, 1].astype(np.int64) - base] = data[known, 2]
    present = ~np.isnan(values)
    filled = np.where(present, values, 0.0)
    zero = np.zeros((shape[0], 1))
    sums = np.concatenate([zero, np.cumsum(filled, axis=1)], axis=1)
    counts = np.concatenate([zero, np.cumsum(present, axis=1)], axis=1)
    before = _present_before(present) if aggregate != "sum" and aggregate != "avg" else None
    after = _present_after(present) if aggregate in ("change", "change_pct") else None
    rows_index = np.arange(shape[0])
    for day in days:
        t, first = day - base, day - base - window + 1
        lower = max(first, 0)
        count = counts[:, t + 1] - counts[:, lower]
        with np.errstate(invalid="ignore", divide="ignore"):
            if aggregate in ("sum", "avg"):
                total = sums[:, t + 1] - sums[:, lower]
                result = total if aggregate == "sum" else total / count
            else:
                latest = values[rows_index, np.maximum(before[:, t], 0)]
                if aggregate == "latest":
                    result = latest
                else:
                    earliest = values[rows_index, np.minimum(after[:, lower], shape[1] - 1)]
                    result = latest - earliest
                    if aggregate == "change_pct":
                        result = np.where(earliest != 0, 100.0 * result / np.abs(earliest), np.nan)
        result = np.where(count > 0, result, np.nan)
        aligned = np.empty(len(order))
        aligned[order] = result
        yield day, aligned
