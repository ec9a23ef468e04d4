"""Idempotency-Key on API POSTs: the first response is replayed, never a second object."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from tend.jobs.registry import get_job_type
from tend.schedule import SCHEDULE
from tend.workspaces.idempotency import purge_expired_idempotency_keys
from tend.workspaces.models import IdempotencyKey

URL = "/api/v1/accounts"


def account_keys(persona) -> list[str]:
    """External ids of the persona's workspace's accounts, read through the API (this app
    sits below accounts, so its tests do not import account models)."""
    return [item["external_id"] for item in persona.api.get(URL).json()["items"]]


def post(client, data, key, **extra):
    return client.post(
        URL, data, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key, **extra
    )


def test_a_repeated_post_replays_the_first_response(owner, workspace):
    first = post(owner.api, {"external_id": "a", "name": "A"}, "key-1")
    assert first.status_code == 201
    second = post(owner.api, {"external_id": "a", "name": "A"}, "key-1")
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert account_keys(owner) == ["a"]


def test_a_stored_error_is_replayed_too(owner):
    first = post(owner.api, {"external_id": "a"}, "key-err")
    assert first.status_code == 422
    second = post(owner.api, {"external_id": "a"}, "key-err")
    assert (second.status_code, second.json()) == (422, first.json())


def test_the_same_key_with_a_different_body_is_a_422_naming_the_header(owner, workspace):
    post(owner.api, {"external_id": "a", "name": "A"}, "key-2")
    response = post(owner.api, {"external_id": "b", "name": "B"}, "key-2")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert account_keys(owner) == ["a"]


def test_keys_belong_to_one_workspace(owner, outsider, workspace, other_workspace):
    post(owner.api, {"external_id": "a", "name": "A"}, "shared")
    response = post(outsider.api, {"external_id": "a", "name": "A"}, "shared")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert account_keys(outsider) == ["a"]


def test_without_a_key_each_post_runs(owner):
    owner.api.post(URL, {"external_id": "a", "name": "A"}, content_type="application/json")
    response = owner.api.post(
        URL, {"external_id": "a", "name": "A"}, content_type="application/json"
    )
    assert response.status_code == 422  # ran again: the external id is now taken


def test_forbidden_answers_are_not_stored(viewer, workspace):
    assert post(viewer.api, {"external_id": "a", "name": "A"}, "key-3").status_code == 403
    assert not IdempotencyKey.objects.filter(workspace=workspace).exists()


def test_a_session_call_without_csrf_gets_no_replay(owner):
    post(owner.api, {"external_id": "a", "name": "A"}, "key-4")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.member.user)
    response = post(client, {"external_id": "a", "name": "A"}, "key-4")
    assert response.status_code == 403
    assert "Idempotent-Replayed" not in response


def test_keys_expire_after_a_day(owner, workspace):
    post(owner.api, {"external_id": "a", "name": "A"}, "old-key")
    post(owner.api, {"external_id": "b", "name": "B"}, "new-key")
    IdempotencyKey.objects.filter(key="old-key").update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    response = post(owner.api, {"external_id": "c", "name": "C"}, "old-key")
    assert response.status_code == 201  # an expired key is free again
    IdempotencyKey.objects.filter(key="old-key").update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    assert purge_expired_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new-key"]


def test_the_purge_is_scheduled():
    entry = next(e for e in SCHEDULE if e.kind == "workspaces.purge_idempotency_keys")
    assert entry.every <= timedelta(hours=24)
    assert get_job_type(entry.kind).func.__name__ == "purge_idempotency_keys"
