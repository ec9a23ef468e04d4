"""Account entered / left a segment: reads ``SegmentChange`` rows after the play's cursor.
Watching a segment marks it ``used_by_automation`` (done by the play actions), so a dynamic
one is re-evaluated at least every minute."""

from pydantic import Field

from tend.lib.errors import InvalidInput
from tend.plays.engine import Occurrence
from tend.plays.triggers import register
from tend.plays.triggers.base import TriggerConfig, TriggerKind
from tend.plays.triggers.changes import ChangeRows
from tend.segments.models import ChangeKind, Segment, SegmentChange, SegmentMember


class SegmentConfig(TriggerConfig):
    segment_id: int = Field(..., gt=0)


def segment_name(play, config) -> str:
    segment = Segment.objects.filter(workspace=play.workspace, pk=config.segment_id).first()
    return segment.name if segment else f"#{config.segment_id} (deleted)"


class _SegmentTrigger(ChangeRows, TriggerKind):
    Config = SegmentConfig
    change: str

    def check(self, config, workspace) -> None:
        if not Segment.objects.filter(workspace=workspace, pk=config.segment_id).exists():
            raise InvalidInput("segment_id", f"no segment with id {config.segment_id}")

    def all_rows(self, play):
        return SegmentChange.objects.filter(workspace=play.workspace)

    def rows(self, play, config):
        return self.all_rows(play).filter(segment_id=config.segment_id, kind=self.change).select_related("segment")

    def occurrence(self, row):
        verb = "entered" if row.kind == ChangeKind.ENTERED else "left"
        return Occurrence(
            account_id=row.account_id,
            key=f"segment_change:{row.pk}",
            cause_kind="segment_change",
            cause_id=row.pk,
            cause=f"{verb} segment {row.segment.name!r} at {row.at:%Y-%m-%d %H:%M} UTC (segment change {row.pk}, source: {row.get_source_display().lower()})",
        )

    def never(self, config) -> str:
        return f"no '{self.change}' change recorded for segment {config.segment_id}"


@register
class EnteredSegment(_SegmentTrigger):
    kind = "segment_entered"
    label = "Account entered a segment"
    change = ChangeKind.ENTERED

    def backfill(self, play, config, now):
        """Current members, each keyed by the change row that brought it in when there is one,
        so a poll reading that row later does not start a second run."""
        members = list(
            SegmentMember.objects.filter(segment_id=config.segment_id).values_list(
                "account_id", flat=True
            )
        )
        latest = {}
        for row in self.rows(play, config).filter(account_id__in=members).order_by("id"):
            latest[row.account_id] = row
        out = []
        for account_id in members:
            row = latest.get(account_id)
            if row is not None:
                out.append(self.occurrence(row))
            else:
                out.append(
                    Occurrence(
                        account_id,
                        f"segment_member:{config.segment_id}:{account_id}",
                        "backfill",
                        f"already in segment {config.segment_id} when the play was activated",
                    )
                )
        return out

    def candidates(self, play, config, now):
        name = segment_name(play, config)
        ids = SegmentMember.objects.filter(segment_id=config.segment_id).order_by("account_id")
        return [
            (pk, f"in segment {name!r} now")
            for pk in ids.values_list("account_id", flat=True)[:5000]
        ]


@register
class LeftSegment(_SegmentTrigger):
    kind = "segment_left"
    label = "Account left a segment"
    change = ChangeKind.LEFT
