"""Wait N days, or until a date attribute of the account (optionally N days before or after
it), then move on. The time counts from when the run reached this step, so running the step
again gives the same time."""

import datetime

from pydantic import Field, model_validator

from tend.accounts.actions.accounts import attribute_definitions
from tend.accounts.models import AttributeType
from tend.lib.dates import zone
from tend.lib.errors import InvalidInput
from tend.plays.steps import register
from tend.plays.steps.base import Done, StepConfig, StepKind, Wait

MAX_DAYS = 3650


class WaitConfig(StepConfig):
    days: int | None = Field(None, ge=0, le=MAX_DAYS, description="Wait this many days.")
    until_attribute: str | None = Field(
        None, max_length=63, description="Or: wait until this date attribute (plus offset_days)."
    )
    offset_days: int = Field(
        0, ge=-MAX_DAYS, le=MAX_DAYS, description="Days after (negative: before) the date."
    )
    at_hour: int = Field(9, ge=0, le=23, description="Local hour of the day to resume on a date.")

    @model_validator(mode="after")
    def _one_of(self):
        if (self.days is None) == (self.until_attribute is None):
            raise ValueError("give either days or until_attribute")
        return self


def due_time(config: WaitConfig, account, start: datetime.datetime, tz_name: str):
    """When the wait ends, or None when the account's date attribute is empty or not a date."""
    if config.days is not None:
        return start + datetime.timedelta(days=config.days)
    raw = (account.attributes or {}).get(config.until_attribute)
    try:
        day = datetime.date.fromisoformat(str(raw)[:10]) if raw else None
    except ValueError:
        day = None
    if day is None:
        return None
    day += datetime.timedelta(days=config.offset_days)
    return datetime.datetime.combine(day, datetime.time(config.at_hour), tzinfo=zone(tz_name))


@register
class WaitStep(StepKind):
    kind = "wait"
    label = "Wait"
    Config = WaitConfig
    local = True
    changes_account = False

    def check(self, config, workspace) -> None:
        if config.until_attribute is not None:
            definition = attribute_definitions(workspace).get(config.until_attribute)
            if definition is None:
                raise InvalidInput(
                    "until_attribute", f"no account attribute with key {config.until_attribute!r}"
                )
            if definition.type != AttributeType.DATE:
                raise InvalidInput(
                    "until_attribute", f"{config.until_attribute!r} is not a date attribute"
                )

    def describe(self, config, ctx) -> dict:
        until = due_time(config, ctx.account, ctx.now, ctx.workspace.time_zone)
        if until is None:
            return {
                "summary": f"{config.until_attribute} is empty: the run would go straight on.",
                "until": None,
            }
        return {
            "summary": f"Wait until {until.astimezone(ctx.now.tzinfo):%Y-%m-%d %H:%M}.",
            "until": until.isoformat(),
        }

    def run(self, ctx):
        until = due_time(
            ctx.config, ctx.account, ctx.entered_at or ctx.now, ctx.workspace.time_zone
        )
        if until is None:
            return Done(
                f"{ctx.config.until_attribute} is empty or not a date: not waiting.",
                {"until": None},
            )
        if until <= ctx.now:
            return Done(
                f"{until:%Y-%m-%d %H:%M} has passed: not waiting.", {"until": until.isoformat()}
            )
        return Wait(until, f"Waiting until {until.astimezone(ctx.now.tzinfo):%Y-%m-%d %H:%M}.")
