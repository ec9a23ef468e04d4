"""An event ingested moves the account's rank on the next rollup and rescoring (seconds apart;
the schedule runs the rescoring every 30 seconds)."""

import datetime

import orjson
import pytest
from django.utils import timezone

from tend.health import jobs
from tend.health.models import AccountHealth, HealthChange
from tend.jobs.runner import Worker
from tend.test import make_token, token_client
from tend.usage import rollups

pytestmark = pytest.mark.django_db


def test_new_usage_reaches_the_rank_through_the_rollup_and_the_rescoring(workspace, monkeypatch):
    monkeypatch.setattr(rollups, "REQUEST_DELAY", rollups.REQUEST_DELAY * 0)  # due at once
    monkeypatch.setattr(rollups, "_last_request", 0.0)
    client = token_client(make_token(workspace, ("ingest",)))
    now = timezone.now()
    days = [(now - datetime.timedelta(days=d)).isoformat() for d in (3, 2, 1, 0)]
    body = [{"account_external_id": "acme", "activity": "Logged in", "timestamp": t} for t in days[:1]]
    client.post("/api/v1/events", data=orjson.dumps(body), content_type="application/json")
    Worker(burst=True, poll_seconds=0).run()  # the rollup the ingestion queued
    jobs.rescore_changed(None)  # what the scheduler runs every 30 seconds
    health = AccountHealth.objects.get(account__external_id="acme")
    assert health.rank in ("average", "poor")
    rollups._last_request = 0.0
    body = [{"account_external_id": "acme", "activity": "Logged in", "timestamp": t} for t in days]
    client.post("/api/v1/events", data=orjson.dumps(body), content_type="application/json")
    Worker(burst=True, poll_seconds=0).run()
    jobs.rescore_changed(None)
    assert AccountHealth.objects.get(account__external_id="acme").rank == "good"
    assert HealthChange.objects.filter(to_rank="good").exists()
