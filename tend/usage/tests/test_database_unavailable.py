"""A busy or lost database is a 503 with Retry-After, never a 500 that reads as a bug."""

import orjson
import pytest
from django.db import OperationalError

from tend.test import make_token, token_client
from tend.usage.api import events as events_api

pytestmark = pytest.mark.django_db


@pytest.fixture
def locked(monkeypatch):
    def ingest(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(events_api, "ingest", ingest)


def test_a_locked_database_answers_503_with_retry_after(workspace, locked):
    client = token_client(make_token(workspace, ("ingest",)))
    body = orjson.dumps([{"account_external_id": "acme", "activity": "Logged in"}])
    response = client.post("/api/v1/events", data=body, content_type="application/json")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "unavailable" and "Retry" in response.json()["detail"]


def test_other_errors_are_not_mistaken_for_an_unavailable_database(workspace, monkeypatch, client):
    def ingest(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(events_api, "ingest", ingest)
    api = token_client(make_token(workspace, ("ingest",)))
    api.raise_request_exception = False
    body = orjson.dumps([{"account_external_id": "acme", "activity": "Logged in"}])
    assert api.post("/api/v1/events", data=body, content_type="application/json").status_code == 500


def test_a_segment_client_is_told_to_retry_in_its_own_error_shape(workspace, monkeypatch):
    from tend.usage.ingest import views

    def ingest(*args, **kwargs):
        raise OperationalError("database or disk is full")

    monkeypatch.setattr(views, "ingest", ingest)
    key = make_token(workspace, ("ingest",))
    body = {
        "writeKey": key,
        "batch": [{"type": "track", "event": "x", "userId": "u", "context": {"groupId": "a"}}],
    }
    response = token_client("unused").post(
        "/ingest/segment/v1/batch", data=orjson.dumps(body), content_type="application/json"
    )
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert set(response.json()) >= {"code", "message"}
