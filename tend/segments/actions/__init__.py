"""Every change to segments (DESIGN rule 1): the interface pages, the API, jobs, imports and
plays call. See docs/segments.md for who may do what.

* ``segments``: :func:`create_segment`, :func:`update_segment`, :func:`delete_segment`,
  :func:`set_used_by_automation`;
* ``membership``: :func:`add_accounts`, :func:`remove_accounts` (static segments; by
  hand, API, import or play);
* ``evaluation``: :func:`evaluate_segment`, :func:`refresh_segments`,
  :func:`request_refresh`, :func:`record_counts`, :func:`rebuild_counts`,
  :func:`prune_orphans`.
"""

from tend.segments.actions.evaluation import (
    Evaluation,
    evaluate_segment,
    prune_orphans,
    rebuild_counts,
    record_counts,
    refresh_segments,
    request_refresh,
)
from tend.segments.actions.membership import MembershipResult, add_accounts, remove_accounts
from tend.segments.actions.segments import (
    create_segment,
    delete_segment,
    set_used_by_automation,
    update_segment,
)

__all__ = [
    "Evaluation",
    "MembershipResult",
    "add_accounts",
    "create_segment",
    "delete_segment",
    "evaluate_segment",
    "prune_orphans",
    "rebuild_counts",
    "record_counts",
    "refresh_segments",
    "remove_accounts",
    "request_refresh",
    "set_used_by_automation",
    "update_segment",
]
