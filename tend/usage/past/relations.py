"""Usage metrics and custom metrics as of one past local day, as SQL over a whole workspace.

Change filters (``docs/conditions.md``) compare a metric now with its value at the end of
the local day N days ago. Each function here gives the SQL of a relation
``(id, now_value, then_value)`` — one row per account having both values — that the
condition language selects ids from in one uncorrelated subquery, however many accounts
there are. ``among`` (the SQL and parameters of a subquery of account ids) restricts the
relation to a few accounts, for reading their records.

* **Windowed usage metrics** (:data:`~tend.usage.past.windows.WINDOW_METRICS`): now is the
  live row (``AccountUsage``); then is the rollup aggregated over the window ending on that
  day, 0 when the account had nothing in it. An account first seen after that day has no
  value then, as it had no metrics row.
* **Custom metrics**: the latest value sent for a day on or before the day asked for, now
  and then alike (:func:`~tend.usage.queries.metrics.latest_on`: the account's latest row,
  or its series for a day the row does not answer).

Only table and column names from the models' ``_meta`` and fixed SQL are formatted into
the text; every value is a parameter.
"""

import datetime

from django.db import connection
from django.db.models.expressions import RawSQL

from tend.lib.dates import date_of, to_ms
from tend.usage.models import AccountDay, AccountUsage, MetricLatest, UserDay
from tend.usage.past.windows import WINDOW_METRICS
from tend.usage.queries.metrics import latest_on

_AGGREGATES = {
    "events": "SUM(d.events)",
    "seconds": "SUM(d.seconds)",
    "active_days": "COUNT(*)",
    "users": "COUNT(DISTINCT d.end_user_id)",
}


def day_start_ms(day: int, tz) -> int:
    """The first instant of local day ``day`` in ``tz``, as epoch milliseconds."""
    return to_ms(datetime.datetime.combine(date_of(day), datetime.time(), tzinfo=tz))


def _within(column: str, among) -> tuple[str, list]:
    if among is None:
        return "", []
    sql, params = among
    return f" AND {column} IN ({sql})", list(params)


def usage_then(workspace_id: int, tz, metric: str, day: int, among=None) -> tuple[str, list]:
    """``(id, now_value, then_value)`` of the windowed usage metric ``metric``: now from the
    live row, then at the end of local day ``day``, for accounts first seen by then.

    The rollup is aggregated once for the whole workspace (a range scan of its
    ``(workspace, day)`` rows, grouped by account) and LEFT JOINed to the metrics rows.
    """
    window = WINDOW_METRICS[metric]
    q = connection.ops.quote_name
    usage = q(AccountUsage._meta.db_table)
    rollup = q((UserDay if window.measure == "users" else AccountDay)._meta.db_table)
    column = q(AccountUsage._meta.get_field(metric).column)
    active = " AND d.events > 0" if window.measure == "active_days" else ""
    last = day - window.newest
    in_days, in_days_params = _within("d.account_id", among)
    in_usage, in_usage_params = _within("u.account_id", among)
    sql = (
        f"SELECT u.account_id AS id, u.{column} AS now_value, "  # noqa: S608
        "COALESCE(p.value, 0) AS then_value "
        f"FROM {usage} u LEFT JOIN ("
        f"SELECT d.account_id, {_AGGREGATES[window.measure]} AS value FROM {rollup} d "
        f"WHERE d.workspace_id = %s AND d.day >= %s AND d.day <= %s{active}{in_days} "
        "GROUP BY d.account_id"
        ") p ON p.account_id = u.account_id "
        f"WHERE u.workspace_id = %s AND u.first_seen_ms < %s{in_usage}"
    )
    params = [
        workspace_id,
        last - window.width + 1,
        last,
        *in_days_params,
        workspace_id,
        day_start_ms(day + 1, tz),
        *in_usage_params,
    ]
    return sql, params


def metric_then(
    workspace_id: int, metric_id: int, today: int, day: int, among=None
) -> tuple[str, list]:
    """``(id, now_value, then_value)`` of a custom metric: the latest value on or before
    ``today`` and the latest on or before ``day``, both from one pass over the accounts'
    latest rows (:func:`~tend.usage.queries.metrics.latest_on`). The value then is mostly
    read from the series, an index probe per account: a row answers only for days from its
    own latest day on."""
    rows = MetricLatest.objects.filter(workspace_id=workspace_id, metric_id=metric_id).annotate(
        latest=latest_on(metric_id, today), latest_then=latest_on(metric_id, day)
    )
    if among is not None:
        rows = rows.filter(account_id__in=RawSQL(*among))  # noqa: S611
    sql, params = rows.values("account_id", "latest", "latest_then").query.sql_with_params()
    # OFFSET 0 keeps the database from merging this subquery into the test that selects from
    # it: merged, each mention of then_value there (up to four) would run its subquery again.
    fence = " LIMIT -1 OFFSET 0" if connection.vendor == "sqlite" else " OFFSET 0"
    return (
        "SELECT m.account_id AS id, m.latest AS now_value, m.latest_then AS then_value "  # noqa: S608
        f"FROM ({sql}{fence}) m",
        list(params),
    )
