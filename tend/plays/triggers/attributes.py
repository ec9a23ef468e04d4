"""Attribute changed (key, optionally from and/or to values): reads ``AttributeChange``."""

from typing import Any

from pydantic import Field

from tend.accounts.actions.accounts import attribute_definitions
from tend.accounts.models import Account, AttributeChange
from tend.lib.errors import InvalidInput
from tend.plays.engine import Occurrence
from tend.plays.triggers import register
from tend.plays.triggers.base import TriggerConfig, TriggerKind
from tend.plays.triggers.changes import ChangeRows


class AttributeConfig(TriggerConfig):
    key: str = Field(..., min_length=1, max_length=63)
    from_value: Any = Field(None, description="Only changes from this value (omit: any).")
    to_value: Any = Field(None, description="Only changes to this value (omit: any).")


def _given(config, name) -> bool:
    return name in config.model_fields_set


@register
class AttributeChanged(ChangeRows, TriggerKind):
    kind = "attribute_changed"
    label = "Attribute changed"
    Config = AttributeConfig
    time_field = "changed_at"

    def check(self, config, workspace) -> None:
        if config.key not in attribute_definitions(workspace):
            raise InvalidInput("key", f"no account attribute with key {config.key!r}")

    def all_rows(self, play):
        return AttributeChange.objects.filter(workspace=play.workspace)

    def rows(self, play, config):
        rows = self.all_rows(play).filter(key=config.key)
        # Compared in Python below: JSON equality differs between SQLite and PostgreSQL.
        return rows

    def keep(self, config, row) -> bool:
        if _given(config, "from_value") and row.from_value != config.from_value:
            return False
        return not (_given(config, "to_value") and row.to_value != config.to_value)

    def occurrence(self, row):
        return Occurrence(
            account_id=row.account_id,
            key=f"attribute_change:{row.pk}",
            cause_kind="attribute_change",
            cause_id=row.pk,
            cause=f"{row.key} changed from {row.from_value!r} to {row.to_value!r} at {row.changed_at:%Y-%m-%d %H:%M} UTC (attribute change {row.pk}, source {row.source})",
        )

    def backfill(self, play, config, now):
        if not _given(config, "to_value"):
            return []
        out = []
        for pk, attrs in (
            Account.objects.filter(workspace=play.workspace)
            .values_list("pk", "attributes")
            .iterator()
        ):
            if (attrs or {}).get(config.key) == config.to_value:
                out.append(
                    Occurrence(
                        pk,
                        f"attribute_value:{config.key}:{pk}",
                        "backfill",
                        f"{config.key} was {config.to_value!r} when the play was activated",
                    )
                )
        return out
