"""Set (or clear, with ``null``) one custom attribute of the account through the account
write path, so the change is checked against the attribute's type and recorded."""

from typing import Any

from pydantic import Field

from tend.accounts.actions.accounts import attribute_definitions, update_account
from tend.accounts.attributes import AttributeValueError, coerce
from tend.lib.errors import InvalidInput
from tend.plays.steps import register
from tend.plays.steps.base import Done, Fail, StepConfig, StepKind


class SetAttributeConfig(StepConfig):
    key: str = Field(..., min_length=1, max_length=63, description="The attribute's key.")
    value: Any = Field(None, description="The new value; null clears it.")


@register
class SetAttribute(StepKind):
    kind = "set_attribute"
    label = "Set an attribute"
    Config = SetAttributeConfig
    local = True

    def check(self, config, workspace) -> None:
        definition = attribute_definitions(workspace).get(config.key)
        if definition is None:
            raise InvalidInput("key", f"no account attribute with key {config.key!r}")
        if config.value is not None:
            try:
                coerce(definition, config.value)
            except AttributeValueError as exc:
                raise InvalidInput("value", exc.message) from exc

    def describe(self, config, ctx) -> dict:
        before = (ctx.account.attributes or {}).get(config.key)
        if before == config.value:
            return {
                "summary": f"{config.key} is already {config.value!r}: nothing to do.",
                "changes": [],
            }
        return {
            "summary": f"Set {config.key} from {before!r} to {config.value!r}.",
            "changes": [{"field": f"attributes.{config.key}", "from": before, "to": config.value}],
        }

    def run(self, ctx):
        key, value = ctx.config.key, ctx.config.value
        before = (ctx.account.attributes or {}).get(key)
        try:
            account = update_account(
                ctx.actor, ctx.account, {"attributes": {key: value}}, source="play"
            )
        except InvalidInput as exc:
            # The definition changed since the play was saved: retrying will not help.
            return Fail(f"could not set {key}: {exc.message}")
        after = (account.attributes or {}).get(key)
        return Done(
            f"Set {key} from {before!r} to {after!r}.",
            {"field": f"attributes.{key}", "from": before, "to": after},
        )
