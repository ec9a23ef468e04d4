"""Usage metrics as they were at the end of past local days, for many days and every
account at once, recomputed from the daily rollups (NumPy).

The usage app keeps one row of metrics per account (``AccountUsage``): what they are *now*.
Health's back-test and its replay of history need them as they were on earlier days, so
this module recomputes them from the daily rollups (``AccountDay``, ``UserDay``,
``AccountActivityDay``) by the usage app's own rules (``tend.usage.metrics`` and the windows
of :data:`tend.usage.past.WINDOW_METRICS`).

Steps of :meth:`PastUsage.days` for a span of days:

1. **Load** the rollup rows from 89 days before the first day to the last (the longest
   window is 90 days), the first day each account was seen, each account's status on each
   day (engagement compares accounts with peers of the same status) and its licences.
2. **Daily matrices** (account × day) of events, seconds and active days; cumulative sums
   along the days give any window's sum as a difference of two columns.
3. **Distinct counts** (active users, modules) over a window: each (account, user) pair
   covers the days its activity falls in a window; where coverages of one pair overlap, only
   the new part counts; the starts and ends of the parts are summed as +1/−1 along the days.
4. **Per day**, the columns of that day give every window metric; visit frequency,
   engagement and licence utilisation follow from them as in ``tend.usage.rollups``.

What differs from the live row: an account's metrics exist from the day it was first seen
(before it, every metric is missing, as the live row would have been); licences and
statuses are read as they are now and from the status history respectively; accounts deleted
since are not among engagement's peers. Spans are cut into chunks of :data:`CHUNK_DAYS` days so
memory stays bounded whatever the span.
"""

from collections.abc import Iterator

import numpy as np
from django.db.models import Max

from tend.accounts.history import StatusHistory
from tend.accounts.models import Account
from tend.lib.dates import local_day, zone
from tend.usage import metrics
from tend.usage.models import AccountActivityDay, AccountDay, AccountUsage, UserDay
from tend.usage.past.windows import WINDOW_METRICS
from tend.usage.queries.summaries import licence_attribute
from tend.workspaces.models import Workspace

LONGEST_WINDOW = 90
CHUNK_DAYS = 60
USER_WINDOWS = {
    name: window.width for name, window in WINDOW_METRICS.items() if window.measure == "users"
}
# Metrics that need peers (every account of the workspace), not just the accounts asked for.
NEEDS_PEERS = {"engagement"}
# Metrics computed per day; anything else the usage source offers is not a past metric.
PAST_METRICS = {
    *WINDOW_METRICS,
    "engagement",
    "licence_utilisation",
    "visit_frequency",
    "days_since_last_seen",
    "modules_30d",
}


def _cumulative(daily: np.ndarray) -> np.ndarray:
    """Cumulative sums along the days with a leading zero column: a window (a, b] is
    ``c[:, b] - c[:, a]``."""
    return np.concatenate([np.zeros((daily.shape[0], 1)), np.cumsum(daily, axis=1)], axis=1)


def _window(cumulative: np.ndarray, t: int, width: int) -> np.ndarray:
    """Per account, the sum over the ``width`` days ending on day index ``t``."""
    return cumulative[:, t + 1] - cumulative[:, max(0, t + 1 - width)]


def _matrix(rows: np.ndarray, days: np.ndarray, values, shape: tuple[int, int]) -> np.ndarray:
    flat = rows * shape[1] + days
    return np.bincount(flat, weights=values, minlength=shape[0] * shape[1]).reshape(shape)


def distinct_in_windows(
    rows: np.ndarray, keys: np.ndarray, days: np.ndarray, shape: tuple[int, int], width: int
) -> np.ndarray:
    """How many distinct keys each row has on the ``width`` days ending on each day index.

    ``rows``, ``keys`` and ``days`` describe occurrences (a row may repeat a key on several
    days). Each occurrence covers days ``[day, day + width)``; for one (row, key) pair, an
    occurrence counts only the days the pair's earlier occurrence did not cover already.
    """
    n, d = shape
    if not len(rows):
        return np.zeros(shape)
    order = np.lexsort((days, keys, rows))
    rows, keys, days = rows[order], keys[order], days[order]
    same = np.zeros(len(rows), dtype=bool)
    same[1:] = (rows[1:] == rows[:-1]) & (keys[1:] == keys[:-1])
    previous_end = np.full(len(rows), np.iinfo(np.int64).min // 2)
    previous_end[1:] = days[:-1] + width
    start = np.where(same, np.maximum(days, previous_end), days)
    end = days + width
    keep = start < end
    width_all = d + width + 1
    diff = np.bincount(rows[keep] * width_all + start[keep], minlength=n * width_all)
    diff = diff - np.bincount(rows[keep] * width_all + end[keep], minlength=n * width_all)
    return np.cumsum(diff.reshape(n, width_all), axis=1)[:, :d]


class PastUsage:
    """Usage metrics of a workspace's accounts on past local days (see the module docstring).

    ``ids`` are the accounts the answers are aligned on; ``names`` the metrics wanted (names
    of the usage source without ``usage.``).
    """

    def __init__(self, workspace: Workspace, ids: np.ndarray, names: set[str]):
        self.workspace = workspace
        self.tz = zone(workspace.time_zone)
        self.ids = np.asarray(ids, dtype=np.int64)
        self.names = set(names)
        self._statuses = None
        seen = list(
            AccountUsage.objects.filter(workspace=workspace, first_seen_ms__isnull=False)
            .order_by("account_id")
            .values_list("account_id", "first_seen_ms")
        )
        # Every account with usage, in id order: the rows of the matrices.
        self.accounts = np.array([s[0] for s in seen], dtype=np.int64)
        self.first_day = np.array([local_day(s[1], self.tz) for s in seen], dtype=float)
        where = np.searchsorted(self.accounts, self.ids)
        where = np.minimum(where, max(len(self.accounts) - 1, 0))
        self.found = (
            self.accounts[where] == self.ids
            if len(self.accounts)
            else np.zeros(len(self.ids), bool)
        )
        self.position = where
        self.licences = self._licences() if "licence_utilisation" in self.names else None

    def _licences(self) -> np.ndarray:
        key = licence_attribute(self.workspace)
        values = dict(
            Account.objects.filter(workspace=self.workspace).values_list("id", "attributes")
        )
        return np.array(
            [_positive((values.get(i) or {}).get(key)) for i in self.accounts.tolist()],
            dtype=float,
        )

    def statuses(self) -> StatusHistory:
        if self._statuses is None:
            self._statuses = StatusHistory(self.workspace)
        return self._statuses

    def days(self, days) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        """(day, metric name → values aligned on ``ids``) for each of ``days``, in order."""
        wanted = sorted(set(int(d) for d in days))
        start = 0
        while start < len(wanted):
            stop = start
            while stop + 1 < len(wanted) and wanted[stop + 1] - wanted[start] < CHUNK_DAYS:
                stop += 1
            yield from self._chunk(wanted[start : stop + 1])
            start = stop + 1

    # --- one chunk of days ---------------------------------------------------------------

    def _rows(self, model, fields: tuple, first: int, last: int, **filters) -> list[tuple]:
        return list(
            model.objects.filter(workspace=self.workspace, day__gte=first, day__lte=last, **filters)
            .order_by()
            .values_list("account_id", "day", *fields)
        )

    def _positions(self, account_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Matrix rows of ``account_ids``, and which of them have a row at all."""
        if not len(self.accounts):
            return np.zeros(len(account_ids), np.int64), np.zeros(len(account_ids), bool)
        where = np.minimum(np.searchsorted(self.accounts, account_ids), len(self.accounts) - 1)
        return where, self.accounts[where] == account_ids

    def _chunk(self, wanted: list[int]) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        base = wanted[0] - (LONGEST_WINDOW - 1)
        last = wanted[-1]
        shape = (len(self.accounts), last - base + 1)
        names = self.names

        rows = self._rows(AccountDay, ("events", "seconds"), base, last)
        account_days = np.array(rows, dtype=float).reshape(-1, 4)
        positions, ok = self._positions(account_days[:, 0].astype(np.int64))
        day_index = account_days[:, 1].astype(np.int64) - base
        positions, day_index, account_days = positions[ok], day_index[ok], account_days[ok]
        events = _cumulative(_matrix(positions, day_index, account_days[:, 2], shape))
        seconds = _cumulative(_matrix(positions, day_index, account_days[:, 3], shape))
        active = _matrix(positions, day_index, (account_days[:, 2] > 0).astype(float), shape) > 0
        active_days = _cumulative(active.astype(float))

        users = {}
        if names & {*USER_WINDOWS, "licence_utilisation"}:
            user_rows = np.array(
                self._rows(UserDay, ("end_user_id",), wanted[0] - 29, last), dtype=np.int64
            ).reshape(-1, 3)
            where, ok = self._positions(user_rows[:, 0])
            for name, width in USER_WINDOWS.items():
                users[name] = distinct_in_windows(
                    where[ok], user_rows[ok, 2], user_rows[ok, 1] - base, shape, width
                )
        modules = None
        if "modules_30d" in names:
            module_rows = list(
                AccountActivityDay.objects.filter(
                    workspace=self.workspace, day__gte=wanted[0] - 29, day__lte=last
                )
                .exclude(module="")
                .order_by()
                .values_list("account_id", "day", "module")
                .distinct()
            )
            labels = {m: i for i, m in enumerate(sorted({r[2] for r in module_rows}))}
            ids = np.array([r[0] for r in module_rows], dtype=np.int64)
            where, ok = self._positions(ids)
            module_days = np.array([r[1] for r in module_rows], dtype=np.int64) - base
            keys = np.array([labels[r[2]] for r in module_rows], dtype=np.int64)
            modules = distinct_in_windows(where[ok], keys[ok], module_days[ok], shape, 30)
        last_seen = None
        if "days_since_last_seen" in names:
            last_seen = self._last_seen(active, base)

        for t in wanted:
            i = t - base
            sums = {"events": events, "seconds": seconds, "active_days": active_days}
            found = {
                name: _window(sums[window.measure], i - window.newest, window.width)
                for name, window in WINDOW_METRICS.items()
                if window.measure in sums
            }
            for name, matrix in users.items():
                found[name] = matrix[:, i].astype(float)
            if modules is not None:
                found["modules_30d"] = modules[:, i].astype(float)
            if last_seen is not None:
                found["days_since_last_seen"] = t - last_seen[:, i]
            if "visit_frequency" in names:
                found["visit_frequency"] = metrics.visit_frequency(
                    found["active_days_14d"],
                    _window(active_days, i, 7),
                    found["active_days_14d"] - _window(active_days, i, 7),
                    found["events_30d"],
                )
            if "engagement" in names:
                found["engagement"] = self._engagement(found, t)
            if "licence_utilisation" in names:
                with np.errstate(divide="ignore", invalid="ignore"):
                    found["licence_utilisation"] = np.round(
                        found["active_users_14d"] / self.licences, 4
                    )
            yield t, self._aligned(found, t)

    def _last_seen(self, active: np.ndarray, base: int) -> np.ndarray:
        """Per account and day index: the last day number with activity on or before it (NaN
        when none), looking back before the loaded days too."""
        n, d = active.shape
        index = np.where(active, np.arange(d)[None, :], -1)
        latest = np.maximum.accumulate(index, axis=1).astype(float)
        latest[latest < 0] = np.nan
        latest += base
        before = dict(
            AccountDay.objects.filter(workspace=self.workspace, day__lt=base, events__gt=0)
            .order_by()
            .values("account_id")
            .annotate(day=Max("day"))
            .values_list("account_id", "day")
        )
        if before:
            earlier = np.array([before.get(a, np.nan) for a in self.accounts.tolist()], dtype=float)
            latest = np.where(np.isnan(latest), earlier[:, None], latest)
        return latest

    def _engagement(self, found: dict, t: int) -> np.ndarray:
        """Engagement on day ``t`` as the usage refresh computes it, peers being the accounts
        with the same status that day."""
        average = metrics.daily_average(found["events_14d"], self.first_day, t)
        baseline = found["events_90d"] - found["events_14d"]
        trend = metrics.trend_score(average, baseline, metrics.baseline_days(self.first_day, t))
        statuses = self.statuses().on(self.accounts, t)
        seen = self.first_day <= t
        engagement = np.zeros(len(self.accounts))
        for status in set(statuses.tolist()):
            mask = statuses == status
            peers = average[mask & seen]
            peers = peers[peers >= metrics.ENGAGEMENT_MIN_PER_DAY]
            engagement[mask] = metrics.engagement(average[mask], peers, trend[mask])
        return engagement

    def _aligned(self, found: dict, t: int) -> dict[str, np.ndarray]:
        """The metrics asked for, aligned on ``ids``: missing for accounts not seen by day
        ``t`` (the live metrics row of an account starts with its first event)."""
        present = (
            self.found & (self.first_day[self.position] <= t)
            if len(self.accounts)
            else (np.zeros(len(self.ids), bool))
        )
        result = {}
        for name in self.names:
            column = found[name]
            if name == "visit_frequency":
                values = np.full(len(self.ids), None, dtype=object)
                if len(self.accounts):
                    values[present] = column[self.position[present]]
            else:
                values = np.full(len(self.ids), np.nan)
                if len(self.accounts):
                    values[present] = column[self.position[present]]
            result[name] = values
        return result


def _positive(value) -> float:
    """Licences from an attribute value: a positive number, else NaN (utilisation missing)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return np.nan
    return number if number > 0 else np.nan
