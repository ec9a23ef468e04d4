"""Journey stage changed, optionally from and/or to named stages: reads ``StageChange``."""

from pydantic import Field

from tend.accounts.models import Stage, StageChange
from tend.lib.errors import InvalidInput
from tend.plays.engine import Occurrence
from tend.plays.triggers import register
from tend.plays.triggers.base import TriggerConfig, TriggerKind
from tend.plays.triggers.changes import ChangeRows


class StageConfig(TriggerConfig):
    from_stage: str | None = Field(
        None, max_length=80, description="A stage's name; any when empty."
    )
    to_stage: str | None = Field(None, max_length=80, description="A stage's name; any when empty.")


def _stage_id(play, name):
    return (
        Stage.objects.filter(workspace=play.workspace, name=name)
        .values_list("pk", flat=True)
        .first()
    )


@register
class StageChanged(ChangeRows, TriggerKind):
    kind = "stage_changed"
    label = "Journey stage changed"
    Config = StageConfig
    time_field = "changed_at"

    def check(self, config, workspace) -> None:
        for field in ("from_stage", "to_stage"):
            name = getattr(config, field)
            if name and not Stage.objects.filter(workspace=workspace, name=name).exists():
                raise InvalidInput(field, f"no journey stage named {name!r}")

    def all_rows(self, play):
        return StageChange.objects.filter(workspace=play.workspace)

    def rows(self, play, config):
        rows = self.all_rows(play)
        if config.from_stage:
            rows = rows.filter(from_stage_id=_stage_id(play, config.from_stage))
        if config.to_stage:
            rows = rows.filter(to_stage_id=_stage_id(play, config.to_stage))
        return rows.select_related("from_stage", "to_stage")

    def occurrence(self, row):
        before = row.from_stage.name if row.from_stage_id and row.from_stage else "none"
        after = row.to_stage.name if row.to_stage_id and row.to_stage else "none"
        return Occurrence(
            account_id=row.account_id,
            key=f"stage_change:{row.pk}",
            cause_kind="stage_change",
            cause_id=row.pk,
            cause=f"journey stage changed from {before} to {after} at {row.changed_at:%Y-%m-%d %H:%M} UTC (stage change {row.pk})",
        )

    def backfill(self, play, config, now):
        """Accounts in the ``to`` stage now (keyed by the change that moved them there)."""
        if not config.to_stage:
            return []
        out = []
        for row in self.rows(play, config).order_by("account_id", "-id"):
            if row.account.stage_id == row.to_stage_id and (
                not out or out[-1].account_id != row.account_id
            ):
                out.append(self.occurrence(row))
        return out
