"""Account status changed (a new paying customer: to ``paying``): reads ``StatusChange``
rows after the rule's cursor, like the plays' change-row triggers — and, for "a new paying
account signed up", the accounts *created* with that status.

Creating an account writes no ``StatusChange`` (creating is not a change: the health
back-test reads those rows as conversion and churn dates). So with a ``to_status`` and no
``from_status``, and ``new_accounts`` on (the default), the rule also reads accounts created
since its last poll, by id after a second cursor kept in ``trigger_state`` (settled as the
change rows are: on PostgreSQL an id may commit late). An account counts with the status it
was *created* with: its first ``StatusChange``'s ``from_status`` when it has one, else its
status now. So an account created as trial and made paying a minute later fires once, for
the change; one created as paying fires once, for its creation (key
``account_created:<id>``), and again only if it leaves paying and comes back.
"""

import datetime

from django.db.models import Max, OuterRef, Subquery
from pydantic import Field

from tend.accounts.models import Account, AccountStatus, StatusChange
from tend.alerts.kinds import register
from tend.plays.engine import Occurrence
from tend.plays.triggers.base import BATCH, Poll, TriggerConfig, TriggerKind
from tend.plays.triggers.changes import ChangeRows, settle_seconds


class StatusConfig(TriggerConfig):
    from_status: AccountStatus | None = Field(None, description="Only changes from this status.")
    to_status: AccountStatus | None = Field(None, description="Only changes to this status.")
    new_accounts: bool = Field(
        True,
        description="With a to-status and no from-status: also accounts created with that status.",
    )


def _watches_new(config) -> bool:
    return bool(config.new_accounts and config.to_status and not config.from_status)


def _top_account(workspace) -> int:
    return Account.objects.filter(workspace=workspace).aggregate(top=Max("id"))["top"] or 0


@register
class StatusChanged(ChangeRows, TriggerKind):
    kind = "status_changed"
    label = "Account status changed (e.g. became paying)"
    Config = StatusConfig
    time_field = "changed_at"

    def all_rows(self, play):
        return StatusChange.objects.filter(workspace=play.workspace)

    def rows(self, play, config):
        rows = self.all_rows(play)
        if config.from_status:
            rows = rows.filter(from_status=config.from_status)
        if config.to_status:
            rows = rows.filter(to_status=config.to_status)
        return rows

    def occurrence(self, row):
        return Occurrence(
            account_id=row.account_id,
            key=f"status_change:{row.pk}",
            cause_kind="status_change",
            cause_id=row.pk,
            cause=f"status changed from {row.from_status} to {row.to_status} at {row.changed_at:%Y-%m-%d %H:%M} UTC",
        )

    def start(self, play, config, now):
        cursor, _state = super().start(play, config, now)
        return cursor, {"account_cursor": _top_account(play.workspace)}

    def poll(self, play, config, now) -> Poll:
        result = super().poll(play, config, now)
        if not _watches_new(config):
            return result
        state = dict(play.trigger_state or {})
        if "account_cursor" not in state:
            # A rule from before new accounts were read: from now on, not the whole past.
            state["account_cursor"] = _top_account(play.workspace)
            result.state = state
            return result
        created, settled, more = self._created(play, config, state["account_cursor"], now)
        result.occurrences = result.occurrences + created
        if settled != state["account_cursor"]:
            result.state = {**state, "account_cursor": settled}
        result.more = result.more or more
        return result

    def _created(self, play, config, after: int, now) -> tuple[list, int, bool]:
        """Occurrences for the accounts created after ``after`` with the status, the cursor
        to store, and whether a full batch was read."""
        first_from = (
            StatusChange.objects.filter(account=OuterRef("pk"))
            .order_by("id")
            .values("from_status")[:1]
        )
        fetched = list(
            Account.objects.filter(workspace=play.workspace, id__gt=after)
            .annotate(first_from=Subquery(first_from))
            .order_by("id")
            .values_list("id", "created_at", "status", "first_from")[:BATCH]
        )
        if not fetched:
            return [], after, False
        settled = fetched[-1][0]
        wait = settle_seconds()
        if wait:
            old_enough = now - datetime.timedelta(seconds=wait)
            settled = after
            for pk, created_at, _status, _first in fetched:
                if created_at >= old_enough:
                    break
                settled = pk
        occurrences = [
            Occurrence(
                account_id=pk,
                key=f"account_created:{pk}",
                cause_kind="account_created",
                cause=f"account created as {config.to_status} at {created_at:%Y-%m-%d %H:%M} UTC",
            )
            for pk, created_at, status, first in fetched
            if (first or status) == config.to_status
        ]
        # Another round only when the whole batch settled: else the same rows would be read
        # again at once; the next poll goes on.
        return occurrences, settled, len(fetched) == BATCH and settled == fetched[-1][0]
