"""The nightly prune: raw events past retention (once counted), expired dedupe keys and log
rows, and rows left behind by deleted accounts — while rollups and metrics stay."""

import datetime

import pytest
from django.utils import timezone

from tend.accounts.models import Account, EndUser
from tend.lib.dates import to_ms
from tend.usage import rollups
from tend.usage.actions.housekeeping import delete_orphans, prune_usage
from tend.usage.actions.ingest import ingest
from tend.usage.actions.settings import settings_for
from tend.usage.ingest.facts import EventFact, Intake, Rejection
from tend.usage.models import (
    AccountDay,
    AccountUsage,
    IngestRejection,
    ReceivedMessage,
    Source,
    UsageEvent,
    UserDay,
)

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def send(workspace, days_ago: int, message_id: str = "", account: str = "acme"):
    ts = to_ms(NOW - datetime.timedelta(days=days_ago))
    fact = EventFact(0, account, "u1", "Logged in", "", ts, message_id=message_id or None)
    ingest(workspace, Intake(source=Source.API, received=1, events=[fact]))


def test_events_past_retention_are_deleted_once_counted_and_their_counts_stay(workspace):
    settings_for(workspace)  # retention 400 days
    send(workspace, 500)
    send(workspace, 10)
    prune_usage(now=NOW)
    assert UsageEvent.objects.count() == 2  # not counted yet: kept
    rollups.roll_up(now=NOW)
    deleted = prune_usage(now=NOW)
    assert deleted["events"] == 1
    assert UsageEvent.objects.count() == 1
    assert AccountDay.objects.count() == 2  # the old day's count stays
    assert AccountUsage.objects.get().first_seen_at < NOW - datetime.timedelta(days=499)


def test_message_ids_are_remembered_for_eight_days(workspace):
    send(workspace, 0, message_id="m-1")
    ReceivedMessage.objects.update(received_at=to_ms(NOW - datetime.timedelta(days=7, hours=23)))
    prune_usage(now=NOW)
    send(workspace, 0, message_id="m-1")
    assert UsageEvent.objects.count() == 1  # still a duplicate after almost 8 days
    ReceivedMessage.objects.update(received_at=to_ms(NOW - datetime.timedelta(days=8, hours=1)))
    assert prune_usage(now=NOW)["message_ids"] == 1


def test_refused_items_stay_in_the_log_for_thirty_days(workspace):
    refusal = Rejection(0, "invalid_item", "item", "expected an object", "[]")
    ingest(workspace, Intake(source=Source.API, received=1, rejections=[refusal]))
    prune_usage(now=NOW + datetime.timedelta(days=29))
    assert IngestRejection.objects.count() == 1
    prune_usage(now=NOW + datetime.timedelta(days=31))
    assert not IngestRejection.objects.exists()


def test_rows_of_an_account_deleted_behind_the_orm_are_removed(workspace):
    send(workspace, 0, account="gone")
    send(workspace, 0, account="stays")
    rollups.roll_up(now=NOW)
    # As if the account had been deleted while its last events were being stored: its end
    # users let go of it (as the ORM does), but nothing of usage was cascaded.
    EndUser.objects.filter(account__external_id="gone").update(account=None)
    Account.objects.filter(external_id="gone")._raw_delete(Account.objects.db)
    # its event, and its rows of account days, activity days, user days and usage
    assert delete_orphans() == 5
    assert UsageEvent.objects.count() == 1 and AccountDay.objects.count() == 1
    assert UserDay.objects.count() == 1 and AccountUsage.objects.count() == 1
