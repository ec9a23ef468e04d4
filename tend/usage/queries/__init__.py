"""Reading usage back: what the account profile, the accounts list and the read API show.

Raw events (:class:`UsageEvent`) are read here and nowhere else outside the rollup job
(DESIGN rule 7): :func:`recent_events` (``events.py``) is the activity stream and
``GET /events``.
Everything else reads the rollups (``AccountDay``, ``AccountActivityDay``, ``UserDay``) and
the metric rows (``AccountUsage``, ``UserUsage``, ``MetricValue``), so moving events to
another store later touches this one function.

Windows are whole local days in the workspace's time zone ending today (``tend.lib.dates``):
"last 7 days" is today and the six days before it. A parent account can be read *with its
children*: :func:`account_tree` walks ``Account.parent`` down from it (at most
``MAX_DEPTH`` levels, ``MAX_TREE`` accounts) and every figure is then summed over the
subtree, with end users counted once however many of its accounts they used.
"""

from tend.usage.queries.events import MERGE_MAX_ACCOUNTS, EventPage, recent_events
from tend.usage.queries.metrics import MetricSeries, account_metric_series, metric_series
from tend.usage.queries.people import (
    DEFAULT_USER_SORT,
    end_users_by_activity,
    modules_for_filter,
    user_sort,
    users_for_filter,
)
from tend.usage.queries.summaries import (
    UsageSummary,
    UserSummary,
    frequency_of,
    usage_summary,
    user_summary,
)
from tend.usage.queries.trees import MAX_DEPTH, MAX_TREE, AccountTree, TreeMember, account_tree
from tend.usage.queries.windows import HISTORY_DAYS, WINDOWS, local_today

__all__ = [
    "DEFAULT_USER_SORT",
    "HISTORY_DAYS",
    "MAX_DEPTH",
    "MAX_TREE",
    "MERGE_MAX_ACCOUNTS",
    "WINDOWS",
    "AccountTree",
    "EventPage",
    "MetricSeries",
    "TreeMember",
    "UsageSummary",
    "UserSummary",
    "account_metric_series",
    "account_tree",
    "end_users_by_activity",
    "frequency_of",
    "local_today",
    "metric_series",
    "modules_for_filter",
    "recent_events",
    "usage_summary",
    "user_sort",
    "user_summary",
    "users_for_filter",
]
