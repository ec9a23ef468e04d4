"""Branch on a condition: continue at ``then_position`` when the account matches it, at
``else_position`` otherwise (null: the next step / end the run). Jumps go forward only, so
a run visits each step at most once and each step's idempotency key stays unique."""

from pydantic import Field

from tend.accounts.conditions import account_catalog
from tend.lib.conditions import require_valid
from tend.lib.errors import InvalidInput
from tend.plays.steps import register
from tend.plays.steps.base import Branch, StepConfig, StepKind

END = 0  # "position 0": end the run


class BranchConfig(StepConfig):
    condition: dict = Field(..., description="A condition in the condition language.")
    then_position: int | None = Field(
        None, ge=0, description="Where to continue when it matches (0: end)."
    )
    else_position: int | None = Field(
        None, ge=0, description="Where to continue when it does not (0: end)."
    )


def target(position: int | None, here: int) -> int | None:
    """The next position: None means the step after this one, 0 the end of the run."""
    if position is None:
        return here + 1
    return None if position == END else position


@register
class BranchStep(StepKind):
    kind = "branch"
    label = "Branch on a condition"
    Config = BranchConfig
    local = True
    changes_account = False

    def check(self, config, workspace) -> None:
        try:
            require_valid(config.condition, account_catalog(workspace))
        except InvalidInput as exc:
            raise InvalidInput(f"condition.{exc.field}".rstrip("."), exc.message) from exc

    def _where(self, config, matched: bool, here: int) -> tuple[int | None, str]:
        chosen = config.then_position if matched else config.else_position
        nxt = target(chosen, here)
        side = "then" if matched else "else"
        return nxt, f"Condition {'matched' if matched else 'did not match'}: {side} → " + (
            f"step {nxt}" if nxt is not None else "end of the run"
        )

    def describe(self, config, ctx) -> dict:
        # The dry run cannot know the position; the engine fills "branch" in with it.
        matched = ctx.matches(config.condition)
        return {
            "summary": f"Condition {'matches' if matched else 'does not match'} now.",
            "matches": matched,
        }

    def run(self, ctx):
        matched = ctx.matches(ctx.config.condition)
        nxt, summary = self._where(ctx.config, matched, ctx.position)
        return Branch(nxt, summary)
