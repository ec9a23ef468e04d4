"""Usage dropped: an account's events in the last 7 days fell by at least ``percent`` from
the 7 days before (``AccountUsage`` rollups; raw events are read only inside usage/).

No change rows exist for usage, so the rule keeps in ``trigger_state`` the accounts that are
down now, and an occurrence is an account *becoming* down: it fires once, and again only
after the account recovered and dropped anew. The key carries the rollup's day, so a
re-read of the same state fires nothing twice. ``min_events`` keeps barely used accounts
(2 events → 0) from alerting. Checked at most every ``EVERY_SECONDS``: rollups move slowly.
"""

import datetime

from django.db.models import F
from pydantic import Field

from tend.alerts.kinds import register
from tend.plays.engine import Occurrence
from tend.plays.triggers.base import Poll, TriggerConfig, TriggerKind
from tend.usage.models import AccountUsage

EVERY_SECONDS = 60


class UsageConfig(TriggerConfig):
    percent: int = Field(50, ge=10, le=100, description="Drop of at least this many percent.")
    min_events: int = Field(
        20, ge=1, le=1_000_000, description="Events in the 7 days before, at least."
    )


def _down(workspace, config) -> dict[int, int]:
    """{account id: rollup day} of the accounts down by the configured drop now."""
    rows = (
        AccountUsage.objects.filter(workspace=workspace)
        .annotate(before=F("events_14d") - F("events_7d"))
        .filter(before__gte=config.min_events)
        .filter(events_7d__lte=F("before") * (100 - config.percent) / 100.0)
        .values_list("account_id", "day")
    )
    return dict(rows)


@register
class UsageDropped(TriggerKind):
    kind = "usage_dropped"
    label = "Usage dropped (week on week)"
    Config = UsageConfig

    def poll(self, play, config, now) -> Poll:
        state = play.trigger_state or {}
        checked = state.get("checked_at")
        if checked and now.timestamp() - checked < EVERY_SECONDS:
            return Poll()
        down = _down(play.workspace, config)
        before = set(state.get("down", []))
        occurrences = [
            Occurrence(
                account_id=account_id,
                key=f"usage_drop:{account_id}:{day}",
                cause_kind="usage_drop",
                cause=f"events in the last 7 days fell by {config.percent}% or more from the 7 days before (as of {datetime.date(1970, 1, 1) + datetime.timedelta(days=day)})",
            )
            for account_id, day in sorted(down.items())
            if account_id not in before
        ]
        return Poll(occurrences, state={"down": sorted(down), "checked_at": now.timestamp()})

    def start(self, play, config, now):
        # Accounts already down when the rule starts are not news.
        return 0, {"down": sorted(_down(play.workspace, config)), "checked_at": now.timestamp()}
