"""The shape every change-row trigger shares: read rows of a model with an id above the
play's cursor, in id order, a bounded batch at a time.

Ids are handed out when rows are inserted, not when they commit. On SQLite writers are
serialised (IMMEDIATE transactions), so ids become visible in order and the cursor can move
to the last id read. On PostgreSQL a transaction that took a smaller id may commit after a
poll read a larger one; so there the stored cursor only passes rows older than
``SETTLE_SECONDS`` (``Poll.settled``). Younger rows are read again on the next polls, which
is harmless: occurrence keys make a second read start nothing.
"""

import datetime

from django.db import connection
from django.db.models import Max

from tend.plays.triggers.base import BATCH, RECENT_DAYS, Poll

SETTLE_SECONDS = 60


def settle_seconds() -> int:
    return SETTLE_SECONDS if connection.vendor == "postgresql" else 0


class ChangeRows:
    """Subclasses give ``rows(play, config)`` (a queryset of matching change rows),
    ``time_field``, and ``occurrence(row)``."""

    time_field = "at"
    cause_kind = "change"

    def rows(self, play, config):
        raise NotImplementedError

    def all_rows(self, play):
        raise NotImplementedError

    def occurrence(self, row):
        raise NotImplementedError

    def keep(self, config, row) -> bool:
        """A last filter in Python, for what SQL cannot compare portably."""
        return True

    def poll(self, play, config, now) -> Poll:
        # The cursor moves over every row of the model read, matching or not, so a trigger
        # with a narrow filter does not re-scan the same rows on every poll.
        top = (
            self.all_rows(play)
            .filter(id__gt=play.trigger_cursor)
            .order_by("id")
            .values_list("id", self.time_field)
        )
        fetched = list(top[:BATCH])
        if not fetched:
            return Poll(cursor=play.trigger_cursor)
        ids = [pk for pk, _at in fetched]
        settled = None
        wait = settle_seconds()
        if wait:
            old_enough = now - datetime.timedelta(seconds=wait)
            settled = play.trigger_cursor
            for pk, at in fetched:
                if at >= old_enough:
                    break
                settled = pk
        rows = (
            self.rows(play, config)
            .filter(id__gt=play.trigger_cursor, id__lte=ids[-1])
            .order_by("id")
        )
        return Poll(
            [self.occurrence(r) for r in rows if self.keep(config, r)],
            cursor=ids[-1],
            settled=settled,
            more=len(ids) == BATCH,
        )

    def start(self, play, config, now):
        return self.all_rows(play).aggregate(top=Max("id"))["top"] or 0, {}

    def recent(self, play, config, now):
        since = now - datetime.timedelta(days=RECENT_DAYS)
        return self.rows(play, config).filter(**{f"{self.time_field}__gte": since}).order_by("-id")

    def candidates(self, play, config, now):
        """Accounts with a matching change not yet read by the play (for a draft play: in
        the last week)."""
        rows = self.recent(play, config, now)
        if play.trigger_cursor:
            rows = rows.filter(id__gt=play.trigger_cursor)
        seen, out = set(), []
        for row in rows[:BATCH]:
            if not self.keep(config, row):
                continue
            o = self.occurrence(row)
            if o.account_id not in seen:
                seen.add(o.account_id)
                out.append((o.account_id, o.cause))
        return out

    def explain(self, play, config, account, now):
        row = next(
            (
                r
                for r in self.rows(play, config).filter(account=account).order_by("-id")[:50]
                if self.keep(config, r)
            ),
            None,
        )
        if row is None:
            return False, f"the trigger never fired for this account ({self.never(config)})"
        o = self.occurrence(row)
        if play.trigger_cursor and row.id > play.trigger_cursor:
            return True, f"{o.cause} — not read by the play yet (it polls every few seconds)"
        return True, o.cause

    def never(self, config) -> str:
        return "no matching change recorded"
