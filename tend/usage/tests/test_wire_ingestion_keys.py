"""Ingest keys of the wire formats: a key writes into its own workspace only, and a key that is
revoked or lacks the ``ingest`` scope writes nothing at all."""

import base64

import orjson
import pytest
from django.test import Client

from tend.accounts.models import Account, EndUser
from tend.test import make_token
from tend.usage.models import IngestCount, IngestRejection, MetricValue, UsageEvent
from tend.workspaces.actions import revoke_api_token
from tend.workspaces.models import ApiToken, hash_token

pytestmark = pytest.mark.django_db


def send_segment(key):
    body = {
        "writeKey": key,
        "batch": [
            {"type": "group", "userId": "ann", "groupId": "acme", "traits": {"name": "Acme"}},
            {
                "type": "track",
                "userId": "ann",
                "event": "Ran report",
                "context": {"groupId": "acme"},
            },
        ],
    }
    return Client().post(
        "/ingest/segment/v1/batch", data=orjson.dumps(body), content_type="application/json"
    )


def send_segment_basic(key):
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    body = {"type": "track", "userId": "ann", "event": "Ran report", "context": {"groupId": "acme"}}
    return Client().post(
        "/ingest/segment/v1/track",
        data=orjson.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )


def send_totango(key):
    params = {
        "sdr_s": key,
        "sdr_o": "acme",
        "sdr_u": "ann",
        "sdr_a": "Ran report",
        "sdr_m": "Reports",
    }
    return Client().get("/ingest/totango/pixel.gif", params)


def send_planhat(key):
    body = [{"externalId": "ann", "cId": "acme", "action": "Ran report"}]
    return Client().post(
        f"/ingest/planhat/analytics/bulk/{key}",
        data=orjson.dumps(body),
        content_type="application/json",
    )


def send_dimensions(key):
    body = {"dimensionId": "api_calls", "value": 5, "externalId": "acme"}
    return Client().post(
        f"/ingest/planhat/dimensiondata/{key}",
        data=orjson.dumps(body),
        content_type="application/json",
    )


SENDERS = {
    "segment": send_segment,
    "segment-basic": send_segment_basic,
    "totango": send_totango,
    "planhat": send_planhat,
    "planhat-dimensions": send_dimensions,
}
REFUSED_STATUS = {
    "segment": 401,
    "segment-basic": 401,
    "totango": 200,  # the pixel always answers with a GIF
    "planhat": 401,
    "planhat-dimensions": 401,
}


def nothing_stored_anywhere():
    for model in (UsageEvent, Account, EndUser, IngestCount, IngestRejection, MetricValue):
        assert not model.objects.exists(), model.__name__


@pytest.mark.parametrize("source", SENDERS)
def test_another_workspaces_key_writes_only_into_that_workspace(source, workspace, other_workspace):
    Account.objects.create(workspace=workspace, external_id="acme", name="Our Acme")
    their_key = make_token(other_workspace, ("ingest",))
    response = SENDERS[source](their_key)
    assert response.status_code == 200
    # Our "acme" is untouched and got no usage; theirs was created in their workspace.
    assert list(Account.objects.filter(workspace=workspace).values_list("name", flat=True)) == [
        "Our Acme"
    ]
    for model in (UsageEvent, EndUser, IngestCount, IngestRejection, MetricValue):
        assert not model.objects.filter(workspace=workspace).exists(), model.__name__
    assert Account.objects.filter(workspace=other_workspace, external_id="acme").exists()
    stored = UsageEvent.objects.filter(workspace=other_workspace).exists()
    stored = stored or MetricValue.objects.filter(workspace=other_workspace).exists()
    assert stored


@pytest.mark.parametrize("source", SENDERS)
def test_a_token_without_the_ingest_scope_writes_nothing(source, workspace):
    key = make_token(workspace, ("read", "write", "admin"))
    response = SENDERS[source](key)
    assert response.status_code == REFUSED_STATUS[source]
    nothing_stored_anywhere()


@pytest.mark.parametrize("source", SENDERS)
def test_a_revoked_key_writes_nothing(source, workspace, owner):
    key = make_token(workspace, ("ingest",))
    assert SENDERS[source](key).status_code == 200  # it worked while it was valid
    UsageEvent.objects.all().delete()
    MetricValue.objects.all().delete()
    IngestCount.objects.all().delete()
    revoke_api_token(owner.actor, ApiToken.objects.get(token_hash=hash_token(key)))
    response = SENDERS[source](key)
    assert response.status_code == REFUSED_STATUS[source]
    assert not UsageEvent.objects.exists()
    assert not MetricValue.objects.exists()
    assert not IngestCount.objects.exists()


def test_the_refusals_name_the_problem_in_each_vendors_shape(workspace):
    key = make_token(workspace, ("read",))
    assert send_segment(key).json() == {
        "code": "invalid_write_key",
        "message": "the write key is unknown, revoked, or its token lacks the 'ingest' scope",
    }
    assert send_planhat(key).json() == {
        "processed": 0,
        "errors": [
            {
                "item": None,
                "error": "key: the key in the URL is unknown, revoked, or its token lacks the "
                "'ingest' scope",
            }
        ],
    }
    pixel = send_totango(key)
    assert (pixel.status_code, pixel["Content-Type"]) == (200, "image/gif")
