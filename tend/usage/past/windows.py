"""The usage metrics that are sums or counts of a daily rollup over a window of local days.

One table says what each windowed metric is, so that every reading of a metric as of a
past day agrees with the live row the rollup job keeps (``tend.usage.rollups``): the NumPy
arrays of :mod:`tend.usage.past.arrays` (many days, every account) and the SQL relations of
:mod:`tend.usage.past.relations` (one day, for change filters).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """A metric as an aggregate of a rollup over ``width`` local days, the newest of them
    ``newest`` days before the day the metric is read for (yesterday: 1).

    ``measure``: ``events`` or ``seconds`` (summed over ``AccountDay``), ``active_days`` (days
    of ``AccountDay`` with an event), ``users`` (distinct end users of ``UserDay``).
    """

    measure: str
    width: int
    newest: int = 0


WINDOW_METRICS = {
    "events_today": Window("events", 1),
    "events_yesterday": Window("events", 1, newest=1),
    "events_3d": Window("events", 3),
    "events_7d": Window("events", 7),
    "events_14d": Window("events", 14),
    "events_30d": Window("events", 30),
    "events_90d": Window("events", 90),
    "seconds_7d": Window("seconds", 7),
    "seconds_30d": Window("seconds", 30),
    "active_days_14d": Window("active_days", 14),
    "active_users_7d": Window("users", 7),
    "active_users_14d": Window("users", 14),
    "active_users_30d": Window("users", 30),
}
