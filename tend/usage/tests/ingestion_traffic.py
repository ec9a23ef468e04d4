"""Traffic for the ingestion log tests: events from several sources, refusals and unmapped
traits, all sent through the one write path (``tend.usage.actions.ingest.ingest``)."""

from unittest import mock

from django.utils import timezone

from tend.lib.dates import to_ms
from tend.usage.actions.ingest import ingest
from tend.usage.ingest.facts import AccountFact, EventFact, Intake, Reason, Rejection, UserFact
from tend.usage.ingest.native import events_intake
from tend.usage.models import Source


def native_events(workspace, items: list, at=None):
    """Send native API items as ``POST /api/v1/events`` would (refusals keep a sample)."""
    at = at or timezone.now()
    intake = events_intake(items, to_ms(at))
    with mock.patch("django.utils.timezone.now", return_value=at):
        return ingest(workspace, intake, samples=dict(enumerate(items)))


def segment_calls(workspace, *, accounts=(), users=(), events=(), rejections=(), at=None):
    """A Segment-style batch: group calls (accounts with traits), identify calls, tracks."""
    at = at or timezone.now()
    ts = to_ms(at)
    intake = Intake(source=Source.SEGMENT)
    index = 0
    for external_id, traits in accounts:
        intake.accounts.append(AccountFact(index, external_id, traits.get("name"), dict(traits)))
        index += 1
    for external_id, account, traits in users:
        intake.users.append(UserFact(index, external_id, account=account, traits=dict(traits)))
        index += 1
    for account, user, activity in events:
        intake.events.append(EventFact(index, account, user, activity, "", ts))
        index += 1
    for reason, field, message, sample in rejections:
        intake.rejections.append(Rejection(index, reason, field, message, sample))
        index += 1
    intake.received = index
    with mock.patch("django.utils.timezone.now", return_value=at):
        return ingest(workspace, intake)


def send_sample_traffic(workspace, at=None):
    """A little of everything: stored events, a duplicate, refusals with reasons, and traits
    the data model does not define."""
    native_events(
        workspace,
        [
            {"account_external_id": "acme", "activity": "Logged in", "message_id": "m-1"},
            {"account_external_id": "acme", "activity": "Created report", "module": "Reports"},
            {"account_external_id": "acme", "activity": "Logged in", "message_id": "m-1"},
            {"account_external_id": "globex", "activity": "Exported", "timestamp": "yesterday"},
            {"activity": "Orphan event"},
        ],
        at=at,
    )
    segment_calls(
        workspace,
        accounts=[("acme", {"name": "Acme Inc", "plan_tier": "Gold", "seatCount": 25})],
        users=[("ana", "acme", {"favouriteColour": "teal"})],
        events=[("acme", "ana", "Viewed dashboard")],
        rejections=[
            (
                Reason.FUTURE_TIMESTAMP,
                "timestamp",
                "is more than 24 hours in the future (check the sender's clock)",
                '{"event": "Signed up", "timestamp": "2099-01-01T00:00:00Z"}',
            )
        ],
        at=at,
    )
