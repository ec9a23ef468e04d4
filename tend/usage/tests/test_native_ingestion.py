"""``POST /api/v1/events`` and ``/metrics``: stored once, refused with reasons, never half-written."""

import datetime

import orjson
import pytest
from django.utils import timezone

from tend.accounts.models import Account, AttributeDefinition, AttributeType, EndUser
from tend.test import make_token, token_client
from tend.usage.actions.settings import update_usage_settings
from tend.usage.models import IngestCount, IngestRejection, Metric, MetricValue, UsageEvent

pytestmark = pytest.mark.django_db
EVENTS = "/api/v1/events"
METRICS = "/api/v1/metrics"


@pytest.fixture
def ingester(workspace):
    return token_client(make_token(workspace, ("ingest",), name="ingest key"))


def post(client, url, body, **headers):
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return client.post(url, data=data, content_type="application/json", **headers)


def event(n=0, **fields):
    return {
        "account_external_id": "acme",
        "user_external_id": "ann@acme.test",
        "activity": "Logged in",
        **fields,
    }


def test_events_are_stored_and_counted(ingester, workspace):
    response = post(ingester, EVENTS, [event(message_id=f"m{i}", module="Core") for i in range(3)])
    assert response.status_code == 200
    assert response.json() == {
        "received": 3,
        "stored": 3,
        "duplicates": 0,
        "rejected": 0,
        "errors": [],
        "duplicate_indexes": [],
    }
    stored = list(UsageEvent.objects.values_list("activity", "module", "source", "message_id"))
    assert stored == [("Logged in", "Core", "api", f"m{i}") for i in range(3)]
    counts = IngestCount.objects.get(workspace=workspace, source="api")
    assert (counts.received, counts.stored, counts.duplicates, counts.rejected) == (3, 3, 0, 0)


def test_an_object_with_events_is_accepted_like_an_array(ingester):
    response = post(ingester, EVENTS, {"events": [event()]})
    assert response.json()["stored"] == 1


def test_accounts_and_end_users_met_for_the_first_time_are_created(ingester, workspace):
    post(ingester, EVENTS, [event(account_name="Acme Corp")])
    account = Account.objects.get(workspace=workspace, external_id="acme")
    assert account.name == "Acme Corp"
    user = EndUser.objects.get(workspace=workspace, external_id="ann@acme.test")
    assert (user.account_id, user.email) == (account.pk, "ann@acme.test")
    assert UsageEvent.objects.get().end_user_id == user.pk


def test_a_resent_message_id_is_stored_once(ingester, workspace):
    batch = [event(message_id="a"), event(message_id="b")]
    post(ingester, EVENTS, batch)
    again = post(ingester, EVENTS, [*batch, event(message_id="c")]).json()
    assert (again["stored"], again["duplicates"], again["duplicate_indexes"]) == (1, 2, [0, 1])
    assert UsageEvent.objects.count() == 3


def test_a_message_id_repeated_inside_one_request_is_stored_once(ingester):
    report = post(ingester, EVENTS, [event(message_id="x"), event(message_id="x")]).json()
    assert (report["stored"], report["duplicates"], report["duplicate_indexes"]) == (1, 1, [1])
    assert UsageEvent.objects.count() == 1


def test_message_ids_are_deduplicated_per_workspace(ingester, outsider):
    other = token_client(make_token(outsider.workspace, ("ingest",)))
    post(ingester, EVENTS, [event(message_id="same")])
    assert post(other, EVENTS, [event(message_id="same")]).json()["stored"] == 1
    assert UsageEvent.objects.count() == 2


@pytest.mark.parametrize(
    ("item", "reason", "field"),
    [
        ({"activity": "x"}, "missing_field", "account_external_id"),
        ({"account_external_id": "acme"}, "missing_field", "activity"),
        (
            {"account_external_id": "acme", "activity": "x", "timestamp": "yesterday"},
            "invalid_timestamp",
            "timestamp",
        ),
        (
            {"account_external_id": "acme", "activity": "x", "timestamp": "2999-01-01T00:00:00Z"},
            "future_timestamp",
            "timestamp",
        ),
        (
            {"account_external_id": "acme", "activity": "x", "properties": [1]},
            "invalid_field",
            "properties",
        ),
        (
            {"account_external_id": "acme", "activity": "x", "duration_seconds": -1},
            "invalid_field",
            "duration_seconds",
        ),
        ({"account_external_id": "acme", "activity": "x" * 201}, "invalid_field", "activity"),
        (
            {"account_external_id": ["acme"], "activity": "x"},
            "invalid_field",
            "account_external_id",
        ),
        (
            {"account_external_id": "acme", "activity": "x", "colour": "red"},
            "invalid_field",
            "colour",
        ),
        ("not an object", "invalid_item", "item"),
    ],
)
def test_each_bad_event_is_refused_alone_with_its_reason(ingester, workspace, item, reason, field):
    response = post(ingester, EVENTS, [event(), item])
    assert response.status_code == 200
    report = response.json()
    assert (report["stored"], report["rejected"]) == (1, 1)
    assert report["errors"][0]["index"] == 1
    assert (report["errors"][0]["reason"], report["errors"][0]["field"]) == (reason, field)
    logged = IngestRejection.objects.get(workspace=workspace)
    assert (logged.reason, logged.field, logged.index, logged.source) == (reason, field, 1, "api")
    assert logged.sample == (item if isinstance(item, str) else orjson.dumps(item).decode())
    assert UsageEvent.objects.count() == 1


def test_an_event_holding_a_nul_character_is_refused_alone(ingester, workspace):
    report = post(
        ingester, EVENTS, [event(), event(activity="bad\x00name"), event(properties={"k\x00": 1})]
    ).json()
    assert (report["stored"], report["rejected"]) == (1, 2)
    assert [(e["index"], e["field"]) for e in report["errors"]] == [
        (1, "activity"),
        (2, "properties"),
    ]
    assert all("\x00" not in r.sample for r in IngestRejection.objects.filter(workspace=workspace))


def test_raw_nul_bytes_in_a_body_are_refused_as_invalid_json(ingester, workspace):
    assert post(ingester, EVENTS, b'[{"activity": "a\x00b"}]').status_code == 400
    assert "\\x00" in IngestRejection.objects.get(workspace=workspace).sample


def test_timestamps_in_iso_or_epoch_seconds_or_ms_all_land_on_the_same_instant(ingester):
    moment = datetime.datetime(2026, 11, 1, 8, 30, tzinfo=datetime.UTC)
    stamps = [
        "2026-11-01T08:30:00Z",
        "2026-11-01T09:30:00+01:00",
        "2026-11-01 08:30:00",
        1793521800,
        1793521800000,
    ]
    post(ingester, EVENTS, [event(timestamp=s) for s in stamps])
    assert set(UsageEvent.objects.values_list("ts", flat=True)) == {int(moment.timestamp() * 1000)}


def test_an_event_without_a_timestamp_happened_when_it_arrived(ingester):
    before = timezone.now()
    post(ingester, EVENTS, [event()])
    ts = UsageEvent.objects.get().ts
    assert int(before.timestamp() * 1000) - 1 <= ts <= int(timezone.now().timestamp() * 1000) + 1


def test_malformed_json_is_refused_whole_and_logged(ingester, workspace):
    response = post(ingester, EVENTS, b'[{"account_external_id": ')
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "body"
    logged = IngestRejection.objects.get(workspace=workspace)
    assert logged.reason == "invalid_json" and logged.sample.startswith('[{"account_external_id"')
    assert not UsageEvent.objects.exists()


def test_a_body_that_is_not_a_list_of_events_is_refused_with_422(ingester):
    response = post(ingester, EVENTS, {"event": event()})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "body", "message": "expected a JSON array of items, or an object with 'events'"}
    ]


def test_more_than_ten_thousand_events_are_refused_whole(ingester, workspace):
    response = post(ingester, EVENTS, [event()] * 10_001)
    assert response.status_code == 413
    assert "10,000" in response.json()["detail"]
    assert IngestRejection.objects.get(workspace=workspace).reason == "too_large"
    assert not UsageEvent.objects.exists()


def test_a_body_over_five_megabytes_is_refused_with_413(ingester):
    big = [event(properties={"blob": "x" * 1000}) for _ in range(5300)]
    assert post(ingester, EVENTS, big).status_code == 413
    assert not UsageEvent.objects.exists()


def test_with_creation_switched_off_unknown_accounts_and_users_are_refused(
    ingester, owner, workspace
):
    update_usage_settings(owner.actor, {"create_unknown": False})
    Account.objects.create(workspace=workspace, external_id="known", name="Known")
    report = post(
        ingester,
        EVENTS,
        [
            event(account_external_id="unknown"),
            event(account_external_id="known", user_external_id="new"),
        ],
    ).json()
    assert [(e["index"], e["reason"]) for e in report["errors"]] == [
        (0, "unknown_account"),
        (1, "unknown_user"),
    ]
    assert not UsageEvent.objects.exists()
    assert not Account.objects.filter(external_id="unknown").exists()


def test_an_account_that_cannot_be_created_refuses_its_events_with_the_reason(ingester, workspace):
    AttributeDefinition.objects.create(
        workspace=workspace, key="plan", label="Plan", type=AttributeType.TEXT, required=True
    )
    report = post(ingester, EVENTS, [event()]).json()
    assert report["rejected"] == 1
    assert report["errors"][0]["field"] == "attributes.plan"
    assert report["errors"][0]["message"] == "is required"
    assert not UsageEvent.objects.exists()


def test_an_ingest_key_is_needed(workspace, owner, viewer):
    read_only = token_client(make_token(workspace, ("read", "write", "admin")))
    assert post(read_only, EVENTS, [event()]).status_code == 403
    assert post(viewer.browser, EVENTS, [event()]).status_code == 403
    assert (
        token_client("tend_unknown")
        .post(EVENTS, data=b"[]", content_type="application/json")
        .status_code
        == 401
    )
    assert not UsageEvent.objects.exists()


def test_a_key_writes_only_into_its_own_workspace(workspace, outsider):
    other = token_client(make_token(outsider.workspace, ("ingest",)))
    Account.objects.create(workspace=workspace, external_id="acme", name="Ours")
    post(other, EVENTS, [event()])
    assert not UsageEvent.objects.filter(workspace=workspace).exists()
    assert Account.objects.get(workspace=outsider.workspace, external_id="acme").name == "acme"
    assert Account.objects.get(workspace=workspace, external_id="acme").name == "Ours"


def test_metric_values_are_daily_and_a_later_value_replaces_the_day(ingester, workspace):
    body = [
        {"account_external_id": "acme", "metric": "api_calls", "value": 10, "date": "2026-11-01"},
        {
            "account_external_id": "acme",
            "metric": "api_calls",
            "value": "1,250",
            "date": "2026-11-02",
        },
        {"account_external_id": "acme", "metric": "api_calls", "value": 12, "date": "2026-11-01"},
    ]
    report = post(ingester, METRICS, body).json()
    assert (report["stored"], report["rejected"]) == (3, 0)
    values = dict(MetricValue.objects.values_list("day", "value"))
    assert sorted(values.values()) == [12.0, 1250.0]
    assert Metric.objects.get(workspace=workspace).key == "api_calls"


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"account_external_id": "acme", "metric": "m"}, "value"),
        ({"account_external_id": "acme", "metric": "m", "value": "lots"}, "value"),
        ({"account_external_id": "acme", "value": 1}, "metric"),
        ({"metric": "m", "value": 1}, "account_external_id"),
        ({"account_external_id": "acme", "metric": "m", "value": 1, "date": "2026-13-01"}, "date"),
    ],
)
def test_bad_metric_values_are_refused_with_the_field(ingester, item, field):
    report = post(ingester, METRICS, [item]).json()
    assert report["rejected"] == 1 and report["errors"][0]["field"] == field
    assert not MetricValue.objects.exists()


def test_a_new_metric_is_labelled_after_its_key_and_can_be_renamed(
    ingester, owner, viewer, outsider
):
    post(ingester, METRICS, [{"account_external_id": "acme", "metric": "api_calls", "value": 1}])
    assert Metric.objects.get().label == "Api calls"
    url = "/api/v1/metrics/api_calls"
    body = orjson.dumps({"label": "API calls"})
    assert viewer.api.patch(url, body, content_type="application/json").status_code == 403
    assert outsider.api.patch(url, body, content_type="application/json").status_code == 404
    empty = owner.api.patch(url, orjson.dumps({"label": ""}), content_type="application/json")
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "label"
    renamed = owner.api.patch(url, body, content_type="application/json")
    assert renamed.status_code == 200 and renamed.json()["label"] == "API calls"
    assert Metric.objects.get().label == "API calls"
