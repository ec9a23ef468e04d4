"""An account's past as the status history tells it: what status each account had on a given
local day, and when accounts churned.

Days are local day numbers in the workspace's time zone (``tend.lib.dates``), like the usage
rollups, so that a status can be lined up with the usage of the same day.
"""

import datetime

import numpy as np

from tend.accounts.models import Account, AccountStatus, StatusChange
from tend.lib.dates import day_number, zone
from tend.workspaces.models import Workspace

# A status for days before an account existed.
NOT_YET = ""


def local_day_of(moment: datetime.datetime, tz) -> int:
    return day_number(moment.astimezone(tz).date())


class StatusHistory:
    """Every account's status on any local day, from the current status and its changes.

    The status on day ``d`` is the one the account had at the end of that day: the ``from``
    status of its first change after day ``d``, or its current status if it has not changed
    since. Before the day it was created an account has none (:data:`NOT_YET`). Reads the
    workspace's accounts and changes in two queries; answers whole arrays at once.
    """

    def __init__(self, workspace: Workspace):
        tz = zone(workspace.time_zone)
        rows = Account.objects.filter(workspace=workspace).order_by("id")
        accounts = list(rows.values_list("id", "status", "created_at"))
        self.ids = np.array([a[0] for a in accounts], dtype=np.int64)
        self.current = np.array([a[1] for a in accounts], dtype=object)
        self.created = np.array([local_day_of(a[2], tz) for a in accounts], dtype=np.int64)
        changes = list(
            StatusChange.objects.filter(workspace=workspace)
            .order_by("account_id", "changed_at", "id")
            .values_list("account_id", "changed_at", "from_status", "to_status")
        )
        self.change_account = np.array([c[0] for c in changes], dtype=np.int64)
        self.change_day = np.array([local_day_of(c[1], tz) for c in changes], dtype=np.int64)
        self.change_from = np.array([c[2] for c in changes], dtype=object)
        self.change_to = np.array([c[3] for c in changes], dtype=object)
        self.change_at = [c[1] for c in changes]

    def on(self, ids: np.ndarray, days) -> np.ndarray:
        """The status of each account of ``ids`` at the end of the day in ``days`` (one day for
        all, or one per account); :data:`NOT_YET` before it was created, and for ids unknown."""
        ids = np.asarray(ids, dtype=np.int64)
        days = np.broadcast_to(np.asarray(days, dtype=np.int64), ids.shape)
        status = np.full(ids.shape, NOT_YET, dtype=object)
        if not len(self.ids):
            return status
        where = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
        known = self.ids[where] == ids
        status[known] = self.current[where[known]]
        if len(self.change_account):
            # The first change of the account after the day: changes are sorted by account
            # then day, so one search on the pair finds it.
            big = np.int64(1) << 32
            keys = self.change_account * big + self.change_day
            after = np.searchsorted(keys, ids * big + days, side="right")
            inside = after < len(keys)
            after = np.minimum(after, len(keys) - 1)
            changed = inside & (self.change_account[after] == ids) & known
            status[changed] = self.change_from[after[changed]]
        status[known & (days < self.created[where])] = NOT_YET
        return status

    def churns(self, first_day: int, last_day: int) -> list[tuple[int, int, datetime.datetime]]:
        """(account id, local day, moment) of every change to churned between two local days
        (inclusive), the latest one per account."""
        found = {}
        mask = (
            (self.change_to == AccountStatus.CHURNED)
            & (self.change_day >= first_day)
            & (self.change_day <= last_day)
        )
        for i in np.nonzero(mask)[0].tolist():
            account = int(self.change_account[i])
            found[account] = (account, int(self.change_day[i]), self.change_at[i])
        return sorted(found.values(), key=lambda churn: (churn[1], churn[0]))
