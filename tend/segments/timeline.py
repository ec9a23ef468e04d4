"""Segment entries and exits on the account timeline: one query a page, narrowed to the
segments the reader may see (another member's private segment is left out); see
``tend.accounts.timeline``."""

from django.urls import reverse

from tend.accounts.timeline import TimelineItem, TimelineSource, add_timeline_source, before
from tend.segments.models import ChangeKind, Segment, SegmentChange
from tend.segments.queries import visible_segments


def _link(item) -> None:
    item.url = reverse("segments:detail", args=[item.data["segment_id"]])


def segment_items(actor, account, cursor, limit, member):
    rows = (
        SegmentChange.objects.filter(workspace=actor.workspace, account=account)
        .filter(segment_id__in=visible_segments(actor).values("pk"))
        .filter(before(cursor, "segment", "at"))
        .select_related("segment", "member__user")
        .only(
            "segment__name",
            "kind",
            "at",
            "source",
            "member__user__full_name",
            "member__user__email",
        )
        .order_by("-at", "-id")
    )
    if member is not None:
        rows = rows.filter(member_id=member)
    items = []
    for change in rows[:limit]:
        segment: Segment = change.segment
        entered = change.kind == ChangeKind.ENTERED
        items.append(
            TimelineItem(
                source="segment",
                kind="segment_entered" if entered else "segment_left",
                at=change.at,
                id=change.pk,
                title=f"{'Entered' if entered else 'Left'} segment {segment.name}",
                detail="" if change.source == "condition" else change.get_source_display().lower(),
                actor=change.member.name if change.member else "",
                actor_id=change.member_id,
                finish=_link,
                data={"segment_id": segment.pk, "segment": segment.name, "change": change.kind},
            )
        )
    return items


def register() -> None:
    add_timeline_source(
        TimelineSource("segment", "Segment entries and exits", segment_items, position=50)
    )
