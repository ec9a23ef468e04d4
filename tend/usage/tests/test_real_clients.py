"""The real, unmodified clients of Segment, RudderStack, Totango and Planhat, pointed at a live
Tend: every event they send is stored exactly once, and the accounts, end users and
attributes they describe are created."""

import os
import threading

import orjson
import pytest
import requests
import totango
from segment.analytics import Client as SegmentClient

from tend.accounts.models import Account, AttributeDefinition, AttributeType, EndUser, ObjectType
from tend.lib.dates import day_number
from tend.test import make_token
from tend.usage.models import Metric, MetricValue, UsageEvent
from tend.usage.tests.wire import counts

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def key(workspace):
    return make_token(workspace, ("ingest",), name="clients")


@pytest.fixture
def attributes(workspace):
    """Attributes the clients' traits map onto (by key, or by label as Totango names them)."""
    for object_type, key, label, kind in [
        (ObjectType.ACCOUNT, "plan", "Plan", AttributeType.TEXT),
        (ObjectType.ACCOUNT, "contract_value", "Contract Value", AttributeType.CURRENCY),
        (ObjectType.ACCOUNT, "seats", "Seats", AttributeType.NUMBER),
        (ObjectType.USER, "role", "Role", AttributeType.TEXT),
    ]:
        AttributeDefinition.objects.create(
            workspace=workspace, object_type=object_type, key=key, label=label, type=kind
        )


@pytest.fixture(scope="module")
def rudder_client_class():
    """RudderStack's client runs ``load_dotenv()`` when imported: keep the environment as it
    was, so a stray ``.env`` cannot change the settings of the rest of the run."""
    saved = dict(os.environ)
    from rudderstack.analytics.client import Client

    os.environ.clear()
    os.environ.update(saved)
    return Client


def _send_identify_group_track(client, *, prefix: str):
    client.identify(f"{prefix}-ann", {"email": "ann@acme.test", "name": "Ann Lee", "role": "Admin"})
    client.group(f"{prefix}-ann", "acme", {"name": "Acme Corp", "plan": "Gold", "seats": 25})
    for n in range(3):
        client.track(
            f"{prefix}-ann",
            "Ran report",
            {"module": "Reports", "format": "csv", "n": n},
            context={"groupId": "acme"},
        )
    # No account in the call: it belongs to the account the group call linked the user to.
    client.track(f"{prefix}-ann", "Logged in", None)


def _assert_identify_group_track_stored(workspace, prefix: str, source: str = "segment"):
    account = Account.objects.get(workspace=workspace, external_id="acme")
    assert (account.name, account.attributes) == ("Acme Corp", {"plan": "Gold", "seats": 25})
    user = EndUser.objects.get(workspace=workspace, external_id=f"{prefix}-ann")
    assert (user.email, user.name, user.attributes, user.account_id) == (
        "ann@acme.test",
        "Ann Lee",
        {"role": "Admin"},
        account.pk,
    )
    events = UsageEvent.objects.filter(workspace=workspace, end_user_id=user.pk)
    assert sorted(events.values_list("activity", "module", "account_id", "source")) == [
        ("Logged in", "", account.pk, source),
        *[("Ran report", "Reports", account.pk, source)] * 3,
    ]
    # Every event exactly once, each under the client's own message id.
    message_ids = list(events.values_list("message_id", flat=True))
    assert len(set(message_ids)) == 4 and all(message_ids)


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
def test_segment_analytics_python_sends_identify_group_and_track(
    live_server, key, workspace, attributes, gzip
):
    client = SegmentClient(key, host=live_server.url + "/ingest/segment", sync_mode=True, gzip=gzip)
    _send_identify_group_track(client, prefix="seg")
    _assert_identify_group_track_stored(workspace, "seg")
    assert counts(workspace, "segment") == (6, 6, 0, 0)


def test_segment_analytics_python_reports_a_refused_key_as_an_api_error(live_server, workspace):
    from segment.analytics.request import APIError

    client = SegmentClient("tend_unknown", host=live_server.url + "/ingest/segment", sync_mode=True)
    with pytest.raises(APIError) as error:
        client.track("u1", "Ran report", context={"groupId": "acme"})
    assert (error.value.status, error.value.code) == (401, "invalid_write_key")
    assert not UsageEvent.objects.exists()


def test_rudder_sdk_python_batches_gzip_by_default_and_everything_is_stored_once(
    live_server, key, workspace, attributes, rudder_client_class
):
    assert rudder_client_class.DefaultConfig.gzip is True  # the client's default, left alone
    errors = []
    client = rudder_client_class(
        key,
        host=live_server.url + "/ingest/segment",
        on_error=lambda error, batch: errors.append(error),
    )
    try:
        _send_identify_group_track(client, prefix="rudder")
        client.flush()
    finally:
        client.join()
    assert errors == []
    _assert_identify_group_track_stored(workspace, "rudder")


def test_the_totango_client_tracks_activities_and_updates_attributes(
    live_server, key, workspace, attributes
):
    tt = totango.Totango(key, user_id="ann@acme.test")
    tt.url = live_server.url + "/ingest/totango/pixel.gif/"
    response = tt.track(
        "Reports",
        "Ran report",
        account_id="acme",
        account_name="Acme Corp",
        user_name="Ann Lee",
        account_opts={"Contract Value": "12000", "Plan": "Gold"},
        user_opts={"Role": "Admin"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/gif"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.content.startswith(b"GIF89a")
    # send(): a pure attribute update, with a parent account and a status.
    tt.send(account_id="acme", account_opts={"parent_id": "acme-group", "Status": "paying"})

    account = Account.objects.select_related("parent").get(workspace=workspace, external_id="acme")
    assert (account.name, account.status, account.parent.external_id) == (
        "Acme Corp",
        "paying",
        "acme-group",
    )
    assert account.attributes == {"contract_value": 12000, "plan": "Gold"}
    user = EndUser.objects.get(workspace=workspace, external_id="ann@acme.test")
    assert (user.name, user.email, user.attributes, user.account_id) == (
        "Ann Lee",
        "ann@acme.test",
        {"role": "Admin"},
        account.pk,
    )
    event = UsageEvent.objects.get(workspace=workspace)
    assert (event.activity, event.module, event.account_id, event.end_user_id, event.source) == (
        "Ran report",
        "Reports",
        account.pk,
        user.pk,
        "totango",
    )


@pytest.mark.parametrize("name_param", ["sdr_odn", "sdr_o.account_name"])
def test_a_plain_get_pixel_call_names_the_account(live_server, key, workspace, name_param):
    params = {
        "sdr_s": key,
        "sdr_o": "globex",
        name_param: "Globex Inc",
        "sdr_u": "hank@globex.test",
        "sdr_a": "Exported data",
        "sdr_m": "Exports",
        "r": "0.123",  # the JS collector's cache buster
    }
    response = requests.get(
        live_server.url + "/ingest/totango/pixel.gif", params=params, timeout=10
    )
    assert (response.status_code, response.headers["Content-Type"]) == (200, "image/gif")
    account = Account.objects.get(workspace=workspace, external_id="globex")
    assert account.name == "Globex Inc"
    event = UsageEvent.objects.get(workspace=workspace)
    assert (event.activity, event.module, event.account_id) == (
        "Exported data",
        "Exports",
        account.pk,
    )


def test_a_planhat_analytics_bulk_call_over_http(live_server, key, workspace):
    activities = [
        {
            "euExtId": "ann",
            "email": "ann@acme.test",
            "name": "Ann Lee",
            "cId": "acme",
            "action": "Logged in",
        },
        {
            "externalId": "ben",
            "companyExternalId": "acme",
            "action": "Ran report",
            "info": {"module": "Reports"},
            "count": 3,
            "weight": 2,
        },
        {
            "email": "cy@acme.test",
            "companyExternalId": "acme",
            "action": "Exported",
            "date": "2026-01-05T10:00:00Z",
        },
        {"action": "Nobody did this"},
    ]
    response = requests.post(
        f"{live_server.url}/ingest/planhat/analytics/bulk/{key}",
        json=activities,
        headers={"Authorization": "Bearer planhat-tenant-token"},  # sent by clients, ignored
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json() == {
        "processed": 3,
        "errors": [
            {
                "item": {"action": "Nobody did this"},
                "error": "externalId: an activity needs its user: externalId (or euExtId, id) or email",
            }
        ],
    }
    account = Account.objects.get(workspace=workspace, external_id="acme")
    events = UsageEvent.objects.filter(workspace=workspace, account=account)
    assert sorted(events.values_list("activity", "module", "source")) == [
        ("Exported", "", "planhat"),
        ("Logged in", "", "planhat"),
        *[("Ran report", "Reports", "planhat")] * 3,
    ]
    ann = EndUser.objects.get(workspace=workspace, external_id="ann")
    assert (ann.email, ann.name, ann.account_id) == ("ann@acme.test", "Ann Lee", account.pk)
    assert EndUser.objects.filter(workspace=workspace, external_id="cy@acme.test").exists()
    assert events.filter(activity="Ran report").first().properties == {
        "module": "Reports",
        "weight": 2,
    }


def test_a_planhat_dimensiondata_call_over_http(live_server, key, workspace):
    import datetime

    values = [
        {"dimensionId": "api_calls", "value": 1250, "externalId": "acme", "date": "2026-01-05"},
        {
            "dimensionId": "api_calls",
            "value": "1,300",
            "externalId": "acme",
            "date": "2026-01-06T12:00:00Z",
        },
        {"dimensionId": "storage_gb", "value": 3.5, "externalId": "acme", "model": "Company"},
    ]
    response = requests.post(
        f"{live_server.url}/ingest/planhat/dimensiondata/{key}",
        data=orjson.dumps(values),
        timeout=10,
    )
    assert response.json() == {"processed": 3, "errors": []}
    account = Account.objects.get(workspace=workspace, external_id="acme")
    stored = {
        (v.metric.key, v.day): v.value
        for v in MetricValue.objects.filter(workspace=workspace, account=account).select_related(
            "metric"
        )
    }
    today = day_number(datetime.datetime.now(datetime.UTC).date())
    assert stored == {
        ("api_calls", day_number(datetime.date(2026, 1, 5))): 1250.0,
        ("api_calls", day_number(datetime.date(2026, 1, 6))): 1300.0,
        ("storage_gb", today): 3.5,
    }
    assert set(Metric.objects.filter(workspace=workspace).values_list("key", flat=True)) == {
        "api_calls",
        "storage_gb",
    }


def test_one_batch_sent_from_four_threads_at_once_is_stored_once(live_server, key, workspace):
    messages = [
        {
            "type": "track",
            "userId": f"u{i % 3}",
            "event": "Ran report",
            "context": {"groupId": "acme"},
            "messageId": f"m-{i}",
        }
        for i in range(50)
    ]
    body = orjson.dumps({"batch": messages, "writeKey": key})
    start = threading.Barrier(4)
    answers = []

    def send():
        start.wait()
        response = requests.post(
            live_server.url + "/ingest/segment/v1/batch",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [status for status, _ in answers] == [200] * 4
    assert sum(answer["stored"] for _, answer in answers) == 50
    assert sum(answer["duplicates"] for _, answer in answers) == 150
    assert UsageEvent.objects.filter(workspace=workspace).count() == 50
    assert UsageEvent.objects.values("message_id").distinct().count() == 50
    assert counts(workspace, "segment")[:3] == (200, 50, 150)
