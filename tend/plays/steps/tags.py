"""Add or remove a tag on the account. Idempotent by nature: a tag already there (or already
gone) is left as it is and the log says so."""

from pydantic import Field

from tend.accounts.actions.accounts import tag_account
from tend.accounts.models import AccountTag
from tend.plays.steps import register
from tend.plays.steps.base import Done, StepConfig, StepKind


class TagConfig(StepConfig):
    tag: str = Field(..., min_length=1, max_length=80, description="The tag's name.")


def _has(account, name: str) -> bool:
    return AccountTag.objects.filter(account=account, tag__name=name).exists()


@register
class AddTag(StepKind):
    kind = "add_tag"
    label = "Add a tag"
    Config = TagConfig
    local = True

    def describe(self, config, ctx) -> dict:
        if _has(ctx.account, config.tag):
            return {
                "summary": f"Tag {config.tag!r} is already on the account: nothing to do.",
                "changes": [],
            }
        return {
            "summary": f"Add tag {config.tag!r}.",
            "changes": [{"field": "tags", "add": config.tag}],
        }

    def run(self, ctx):
        added, _ = tag_account(ctx.actor, ctx.account, add=[ctx.config.tag], source="play")
        if added:
            return Done(f"Added tag {ctx.config.tag!r}.", {"tags_added": added})
        return Done(f"Tag {ctx.config.tag!r} was already on the account.", {"tags_added": []})


@register
class RemoveTag(StepKind):
    kind = "remove_tag"
    label = "Remove a tag"
    Config = TagConfig
    local = True

    def describe(self, config, ctx) -> dict:
        if not _has(ctx.account, config.tag):
            return {
                "summary": f"Tag {config.tag!r} is not on the account: nothing to do.",
                "changes": [],
            }
        return {
            "summary": f"Remove tag {config.tag!r}.",
            "changes": [{"field": "tags", "remove": config.tag}],
        }

    def run(self, ctx):
        _, removed = tag_account(ctx.actor, ctx.account, remove=[ctx.config.tag], source="play")
        if removed:
            return Done(f"Removed tag {ctx.config.tag!r}.", {"tags_removed": removed})
        return Done(f"Tag {ctx.config.tag!r} was not on the account.", {"tags_removed": []})
