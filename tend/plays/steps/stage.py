"""Move the account to a journey stage (or out of every stage, with ``null``)."""

from pydantic import Field

from tend.accounts.actions.accounts import update_account
from tend.accounts.models import Stage
from tend.lib.errors import InvalidInput
from tend.plays.steps import register
from tend.plays.steps.base import Done, Fail, StepConfig, StepKind


class SetStageConfig(StepConfig):
    stage: str | None = Field(..., max_length=80, description="The stage's name; null clears it.")


@register
class SetStage(StepKind):
    kind = "set_stage"
    label = "Set the journey stage"
    Config = SetStageConfig
    local = True

    def check(self, config, workspace) -> None:
        if (
            config.stage
            and not Stage.objects.filter(workspace=workspace, name=config.stage).exists()
        ):
            raise InvalidInput("stage", f"no journey stage named {config.stage!r}")

    def describe(self, config, ctx) -> dict:
        before = ctx.account.stage.name if ctx.account.stage_id else None
        if before == config.stage:
            return {
                "summary": f"The account is already in stage {before!r}: nothing to do.",
                "changes": [],
            }
        return {
            "summary": f"Move the account from stage {before!r} to {config.stage!r}.",
            "changes": [{"field": "stage", "from": before, "to": config.stage}],
        }

    def run(self, ctx):
        before = ctx.account.stage.name if ctx.account.stage_id else None
        if before == ctx.config.stage:
            return Done(
                f"The account was already in stage {before!r}.",
                {"field": "stage", "from": before, "to": before},
            )
        try:
            update_account(ctx.actor, ctx.account, {"stage": ctx.config.stage}, source="play")
        except InvalidInput as exc:
            return Fail(f"could not set the stage: {exc.message}")
        return Done(
            f"Moved the account from stage {before!r} to {ctx.config.stage!r}.",
            {"field": "stage", "from": before, "to": ctx.config.stage},
        )
