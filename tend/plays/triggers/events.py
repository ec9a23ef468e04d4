"""Event received: an activity (optionally with property values) arrived for the account.
Events are read through ``tend.usage.queries`` (DESIGN rule 7), after the play's cursor."""

from pydantic import Field

from tend.lib.dates import from_ms
from tend.plays.engine import Occurrence
from tend.plays.triggers import changes, register
from tend.plays.triggers.base import BATCH, Poll, TriggerConfig, TriggerKind
from tend.usage.queries.events import events_after, last_event_id, latest_event

# How many "highest id seen at" marks a play keeps (one per poll within the settle time).
MARKS = 64


class EventConfig(TriggerConfig):
    activity: str = Field(..., min_length=1, max_length=200)
    properties: dict = Field(
        default_factory=dict, description="Property values the event must carry (equality)."
    )


def _keep(config, event) -> bool:
    if event.account_id is None:
        return False
    props = event.properties or {}
    return all(props.get(k) == v for k, v in config.properties.items())


def _occurrence(event) -> Occurrence:
    return Occurrence(
        account_id=event.account_id,
        key=f"event:{event.id}",
        cause_kind="event",
        cause_id=event.id,
        cause=f"event {event.activity!r} at {from_ms(event.ts):%Y-%m-%d %H:%M} UTC (event {event.id})",
    )


@register
class EventReceived(TriggerKind):
    kind = "event_received"
    label = "Event received"
    Config = EventConfig

    def poll(self, play, config, now) -> Poll:
        top = events_after(play.workspace, play.trigger_cursor, limit=BATCH)
        if not top:
            return Poll(cursor=play.trigger_cursor)
        last = top[-1].id
        wanted = [e for e in top if e.activity == config.activity and _keep(config, e)]
        occurrences = [_occurrence(e) for e in wanted]
        wait = changes.settle_seconds()
        if not wait:
            return Poll(occurrences, cursor=last, more=len(top) == BATCH)
        # Events carry no time of arrival (``ts`` is the client's), so the play remembers
        # when it first saw each highest id and lets the stored cursor pass only ids seen at
        # least ``wait`` seconds ago: a smaller id committed late is still read (see
        # changes.py), and occurrence keys make the re-read start nothing twice.
        moment = now.timestamp()
        marks = [tuple(m) for m in (play.trigger_state or {}).get("seen", [])]
        marks.append((moment, last))
        settled = max([play.trigger_cursor, *(pk for at, pk in marks if at <= moment - wait)])
        recent = [list(m) for m in marks if m[0] > moment - wait][-MARKS:]
        return Poll(
            occurrences,
            cursor=last,
            settled=min(settled, last),
            state={**(play.trigger_state or {}), "seen": recent},
            more=len(top) == BATCH,
        )

    def start(self, play, config, now):
        return last_event_id(play.workspace), {}

    def candidates(self, play, config, now):
        pending = (
            events_after(play.workspace, play.trigger_cursor, activity=config.activity, limit=BATCH)
            if play.trigger_cursor
            else []
        )
        seen, out = set(), []
        for e in pending:
            if _keep(config, e) and e.account_id not in seen:
                seen.add(e.account_id)
                out.append((e.account_id, _occurrence(e).cause))
        return out

    def explain(self, play, config, account, now):
        event = latest_event(play.workspace, account.pk, config.activity)
        if event is None or not _keep(config, event):
            return (
                False,
                f"no {config.activity!r} event with the wanted properties received for this account",
            )
        return True, _occurrence(event).cause
