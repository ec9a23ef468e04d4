"""Schedule: a cron expression, in the workspace's time zone, for the accounts of a segment
(e.g. ``0 9 * * 1`` — every Monday at 09:00). A poll fires the most recent time that passed
since the last fire (missed times after downtime collapse into one)."""

import datetime

from croniter import croniter
from pydantic import Field, field_validator

from tend.lib.dates import zone
from tend.lib.errors import InvalidInput
from tend.plays.engine import Occurrence
from tend.plays.triggers import register
from tend.plays.triggers.base import Poll, TriggerConfig, TriggerKind
from tend.segments.models import Segment, SegmentMember


class ScheduleConfig(TriggerConfig):
    cron: str = Field(
        ..., max_length=100, description="Five fields: minute hour day month weekday."
    )
    segment_id: int = Field(..., gt=0)

    @field_validator("cron")
    @classmethod
    def _valid(cls, value):
        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise ValueError("is not a five-field cron expression such as '0 9 * * 1'")
        return value


def last_due(
    cron: str, since: datetime.datetime, now: datetime.datetime
) -> datetime.datetime | None:
    """The latest cron time in (since, now], or None."""
    it = croniter(cron, since)
    found = None
    while True:
        nxt = it.get_next(datetime.datetime)
        if nxt > now:
            return found
        found = nxt


@register
class Schedule(TriggerKind):
    kind = "schedule"
    label = "On a schedule"
    Config = ScheduleConfig

    def check(self, config, workspace) -> None:
        if not Segment.objects.filter(workspace=workspace, pk=config.segment_id).exists():
            raise InvalidInput("segment_id", f"no segment with id {config.segment_id}")

    def _local(self, play, now):
        return now.astimezone(zone(play.workspace.time_zone))

    def start(self, play, config, now):
        return 0, {"last_fire": self._local(play, now).isoformat()}

    def poll(self, play, config, now) -> Poll:
        local = self._local(play, now)
        since_raw = (play.trigger_state or {}).get("last_fire")
        since = datetime.datetime.fromisoformat(since_raw) if since_raw else local
        fire = last_due(config.cron, since.astimezone(local.tzinfo), local)
        if fire is None:
            return Poll(
                cursor=play.trigger_cursor,
                state=play.trigger_state or {"last_fire": since.isoformat()},
            )
        members = SegmentMember.objects.filter(segment_id=config.segment_id).values_list(
            "account_id", flat=True
        )
        stamp = fire.isoformat()
        occurrences = [
            Occurrence(
                pk,
                f"schedule:{stamp}",
                "schedule",
                f"scheduled time {fire:%Y-%m-%d %H:%M %Z} ({config.cron})",
            )
            for pk in members
        ]
        return Poll(occurrences, cursor=play.trigger_cursor, state={"last_fire": stamp})

    def candidates(self, play, config, now):
        local = self._local(play, now)
        nxt = croniter(config.cron, local).get_next(datetime.datetime)
        members = SegmentMember.objects.filter(segment_id=config.segment_id).order_by("account_id")
        return [
            (pk, f"in the segment; next scheduled time {nxt:%Y-%m-%d %H:%M %Z}")
            for pk in members.values_list("account_id", flat=True)[:5000]
        ]

    def explain(self, play, config, account, now):
        if not SegmentMember.objects.filter(segment_id=config.segment_id, account=account).exists():
            return (
                False,
                f"the account is not in segment {config.segment_id}, whose accounts the schedule runs for",
            )
        last = (play.trigger_state or {}).get("last_fire")
        return True, f"in the segment; the schedule last fired at {last or 'never'}"
