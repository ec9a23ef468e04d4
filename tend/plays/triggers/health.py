"""Health rank changed, optionally from and/or to given ranks: reads ``HealthChange`` rows."""

from pydantic import Field

from tend.health.models import HealthChange, Rank
from tend.plays.engine import Occurrence
from tend.plays.triggers import register
from tend.plays.triggers.base import TriggerConfig, TriggerKind
from tend.plays.triggers.changes import ChangeRows


class HealthConfig(TriggerConfig):
    from_rank: Rank | None = Field(
        None, description="Only changes from this rank (any when empty)."
    )
    to_rank: Rank | None = Field(None, description="Only changes to this rank (any when empty).")


@register
class HealthChanged(ChangeRows, TriggerKind):
    kind = "health_changed"
    label = "Health rank changed"
    Config = HealthConfig
    time_field = "changed_at"

    def all_rows(self, play):
        return HealthChange.objects.filter(workspace=play.workspace)

    def rows(self, play, config):
        rows = self.all_rows(play)
        if config.from_rank:
            rows = rows.filter(from_rank=config.from_rank)
        if config.to_rank:
            rows = rows.filter(to_rank=config.to_rank)
        return rows

    def occurrence(self, row):
        return Occurrence(
            account_id=row.account_id,
            key=f"health_change:{row.pk}",
            cause_kind="health_change",
            cause_id=row.pk,
            cause=f"health rank changed from {row.from_rank or 'none'} to {row.to_rank or 'none'} at {row.changed_at:%Y-%m-%d %H:%M} UTC (health change {row.pk})",
        )

    def backfill(self, play, config, now):
        """Accounts whose latest change matches (they hold the rank now)."""
        latest = {}
        for row in (
            self.all_rows(play)
            .order_by("id")
            .only("id", "account_id", "from_rank", "to_rank", "changed_at")
        ):
            latest[row.account_id] = row
        wanted = (
            set(self.rows(play, config).values_list("id", flat=True))
            if config.from_rank or config.to_rank
            else None
        )
        return [self.occurrence(r) for r in latest.values() if wanted is None or r.pk in wanted]
