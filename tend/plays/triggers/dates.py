"""Date-relative: N days before or after a date attribute (e.g. 60 days before
``renewal_date``), checked once per local day in the workspace's time zone."""

import datetime
from typing import Literal

from pydantic import Field

from tend.accounts.actions.accounts import attribute_definitions
from tend.accounts.models import Account, AttributeType
from tend.lib.dates import zone
from tend.lib.errors import InvalidInput
from tend.plays.engine import Occurrence
from tend.plays.triggers import register
from tend.plays.triggers.base import Poll, TriggerConfig, TriggerKind


class DateConfig(TriggerConfig):
    attribute: str = Field(..., min_length=1, max_length=63, description="A date attribute's key.")
    days: int = Field(..., ge=0, le=3650)
    direction: Literal["before", "after"] = "before"


def target_day(config, today: datetime.date) -> datetime.date:
    """The attribute value that is due today: 60 days before renewal → renewal = today + 60."""
    delta = datetime.timedelta(days=config.days)
    return today + delta if config.direction == "before" else today - delta


def _due(play, config, today):
    day = target_day(config, today).isoformat()
    return Account.objects.filter(
        workspace=play.workspace, **{f"attributes__{config.attribute}": day}
    )


@register
class DateRelative(TriggerKind):
    kind = "date_relative"
    label = "Days before or after a date"
    Config = DateConfig

    def check(self, config, workspace) -> None:
        definition = attribute_definitions(workspace).get(config.attribute)
        if definition is None:
            raise InvalidInput("attribute", f"no account attribute with key {config.attribute!r}")
        if definition.type != AttributeType.DATE:
            raise InvalidInput("attribute", f"{config.attribute!r} is not a date attribute")

    def _today(self, play, now) -> datetime.date:
        return now.astimezone(zone(play.workspace.time_zone)).date()

    def start(self, play, config, now):
        return 0, {}

    def poll(self, play, config, now) -> Poll:
        today = self._today(play, now)
        if (play.trigger_state or {}).get("last_day") == today.isoformat():
            return Poll(cursor=play.trigger_cursor, state=play.trigger_state)
        when = f"{config.days} days {config.direction} {config.attribute}"
        occurrences = [
            Occurrence(
                pk,
                f"date:{config.attribute}:{day}",
                "date",
                f"{when} ({config.attribute} = {day}), checked {today}",
            )
            for pk, day in _due(play, config, today).values_list(
                "pk", f"attributes__{config.attribute}"
            )
        ]
        return Poll(occurrences, cursor=play.trigger_cursor, state={"last_day": today.isoformat()})

    def candidates(self, play, config, now):
        today = self._today(play, now)
        return [
            (pk, f"{config.attribute} is {target_day(config, today)}: due today")
            for pk in _due(play, config, today).values_list("pk", flat=True)[:5000]
        ]

    def explain(self, play, config, account, now):
        value = (account.attributes or {}).get(config.attribute)
        if not value:
            return False, f"the account has no {config.attribute}"
        try:
            day = datetime.date.fromisoformat(str(value)[:10])
        except ValueError:
            return False, f"{config.attribute} is {value!r}, not a date"
        due = (
            day - datetime.timedelta(days=config.days)
            if config.direction == "before"
            else day + datetime.timedelta(days=config.days)
        )
        today = self._today(play, now)
        if due > today:
            return False, f"{config.attribute} is {day}: due on {due}, not yet"
        return True, f"{config.attribute} is {day}: it was due on {due}"
