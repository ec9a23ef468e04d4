"""Health rank changes on the account timeline (one query a page; see
``tend.accounts.timeline``). Scoring is done by nobody in particular, so the source is left
out when the timeline is filtered by member."""

from tend.accounts.timeline import TimelineItem, TimelineSource, add_timeline_source, before
from tend.health.models import HealthChange, Rank

LABELS = dict(Rank.choices)
ORDER = {Rank.POOR: 0, Rank.AVERAGE: 1, Rank.GOOD: 2}


def _tone(change) -> str:
    if change.to_rank == Rank.POOR:
        return "bad"
    if change.from_rank and change.to_rank and ORDER[change.to_rank] > ORDER[change.from_rank]:
        return "good"
    return ""


def health_items(actor, account, cursor, limit, member):
    rows = (
        HealthChange.objects.filter(workspace=actor.workspace, account=account)
        .filter(before(cursor, "health", "changed_at"))
        .order_by("-changed_at", "-id")
    )
    items = []
    for change in rows[:limit]:
        frm = LABELS.get(change.from_rank, "no score")
        to = LABELS.get(change.to_rank, "no score")
        items.append(
            TimelineItem(
                source="health",
                kind="health_changed",
                at=change.changed_at,
                id=change.pk,
                title=f"Health: {frm} → {to}",
                detail=f"score {change.score:.0f}" if change.score is not None else "",
                tone=_tone(change),
                data={"from": change.from_rank, "to": change.to_rank, "score": change.score},
            )
        )
    return items


def register() -> None:
    add_timeline_source(
        TimelineSource("health", "Health changes", health_items, by_member=False, position=40)
    )
