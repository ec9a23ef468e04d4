"""Add the account to a static segment, or remove it, through the segments app's membership
actions (the entry or exit is recorded with source ``play`` and the run as reference)."""

from pydantic import Field

from tend.lib.errors import InvalidInput
from tend.plays.steps import register
from tend.plays.steps.base import Done, Fail, StepConfig, StepKind
from tend.segments.actions.membership import add_accounts, remove_accounts
from tend.segments.models import Segment, SegmentKind, SegmentMember, Source


class SegmentStepConfig(StepConfig):
    segment_id: int = Field(..., gt=0, description="A static segment of the workspace.")


def _segment(workspace, pk) -> Segment | None:
    return Segment.objects.filter(workspace=workspace, pk=pk).first()


class _Membership(StepKind):
    Config = SegmentStepConfig
    local = True
    adding: bool

    def check(self, config, workspace) -> None:
        segment = _segment(workspace, config.segment_id)
        if segment is None:
            raise InvalidInput("segment_id", f"no segment with id {config.segment_id}")
        if segment.kind != SegmentKind.STATIC:
            raise InvalidInput(
                "segment_id",
                f"segment {segment.name!r} is dynamic: its condition decides its members",
            )

    def describe(self, config, ctx) -> dict:
        segment = _segment(ctx.workspace, config.segment_id)
        if segment is None:
            return {
                "summary": f"Segment {config.segment_id} no longer exists: this step would fail.",
                "changes": [],
            }
        member = SegmentMember.objects.filter(segment=segment, account=ctx.account).exists()
        if member == self.adding:
            state = "already in" if member else "not in"
            return {
                "summary": f"The account is {state} segment {segment.name!r}: nothing to do.",
                "changes": [],
            }
        verb = "Add the account to" if self.adding else "Remove the account from"
        return {
            "summary": f"{verb} segment {segment.name!r}.",
            "changes": [
                {
                    "field": "segment",
                    "segment": segment.name,
                    "add" if self.adding else "remove": True,
                }
            ],
        }

    def run(self, ctx):
        segment = _segment(ctx.workspace, ctx.config.segment_id)
        if segment is None or segment.kind != SegmentKind.STATIC:
            return Fail(f"segment {ctx.config.segment_id} is gone or no longer static")
        change = add_accounts if self.adding else remove_accounts
        result = change(
            ctx.actor,
            segment,
            account_ids=[ctx.account.pk],
            source=Source.PLAY,
            reference=f"play run {ctx.run.pk}",
        )
        status = result.results[0]["status"]
        if status == "error":
            return Fail(result.results[0].get("message", "the segment refused the account"))
        return Done(
            f"{status.replace('_', ' ').capitalize()}: segment {segment.name!r}.",
            {"segment_id": segment.pk, "status": status},
        )


@register
class AddToSegment(_Membership):
    kind = "add_to_segment"
    label = "Add to a static segment"
    adding = True


@register
class RemoveFromSegment(_Membership):
    kind = "remove_from_segment"
    label = "Remove from a static segment"
    adding = False
