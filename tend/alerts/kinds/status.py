"""Account status changed (a new paying customer: to ``paying``): reads ``StatusChange``
rows after the rule's cursor, like the plays' change-row triggers.

An account created with a status has no ``StatusChange`` (creating is not a change), so
"a new paying account" means one whose status became paying, from trial or free."""

from pydantic import Field

from tend.accounts.models import AccountStatus, StatusChange
from tend.alerts.kinds import register
from tend.plays.engine import Occurrence
from tend.plays.triggers.base import TriggerConfig, TriggerKind
from tend.plays.triggers.changes import ChangeRows


class StatusConfig(TriggerConfig):
    from_status: AccountStatus | None = Field(None, description="Only changes from this status.")
    to_status: AccountStatus | None = Field(None, description="Only changes to this status.")


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
