"""Planhat's analytics endpoints at ``/ingest/planhat/``: user activities and dimension data,
answered with ``{"processed": n, "errors": [...]}`` and every refused item in the log."""

import datetime

import orjson
import pytest
from django.test import Client
from django.utils import timezone

from tend.accounts.models import Account, EndUser
from tend.lib.dates import day_number, to_ms
from tend.test import make_token
from tend.usage.actions.settings import update_usage_settings
from tend.usage.models import IngestRejection, MetricValue, UsageEvent
from tend.usage.tests.wire import counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(workspace):
    return make_token(workspace, ("ingest",), name="planhat key")


def post(path, body, **headers):
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return Client().post(path, data=data, content_type="application/json", **headers)


def analytics(key, body, bulk=False, **headers):
    return post(f"/ingest/planhat/analytics/{'bulk/' if bulk else ''}{key}", body, **headers)


def dimensions(key, body):
    return post(f"/ingest/planhat/dimensiondata/{key}", body)


ANN = {"externalId": "ann", "companyExternalId": "acme", "action": "Logged in"}


# --- activities ----------------------------------------------------------------------------


def test_one_activity_object_is_stored(key, workspace):
    response = analytics(key, ANN)
    assert response.status_code == 200
    assert response.json() == {"processed": 1, "errors": []}
    event = UsageEvent.objects.get(workspace=workspace)
    assert (event.activity, event.source) == ("Logged in", "planhat")
    assert Account.objects.get(pk=event.account_id).external_id == "acme"
    assert EndUser.objects.get(pk=event.end_user_id).external_id == "ann"
    assert counts(workspace, "planhat") == (1, 1, 0, 0)


def test_the_single_path_also_takes_an_array_and_the_bulk_path_an_object(key, workspace):
    assert analytics(key, [ANN, ANN]).json()["processed"] == 2
    assert analytics(key, ANN, bulk=True).json()["processed"] == 1
    assert UsageEvent.objects.filter(workspace=workspace).count() == 3


def test_user_and_company_aliases_are_accepted(key, workspace):
    items = [
        {"euExtId": "ben", "cId": "acme", "action": "a"},
        {"id": "cy", "cId": "acme", "action": "b"},
        {"email": "dee@acme.test", "cId": "acme", "action": "c"},
    ]
    assert analytics(key, items, bulk=True).json() == {"processed": 3, "errors": []}
    users = set(EndUser.objects.filter(workspace=workspace).values_list("external_id", "email"))
    assert users == {("ben", ""), ("cy", ""), ("dee@acme.test", "dee@acme.test")}


def test_without_a_company_the_users_known_account_is_used(key, workspace):
    analytics(key, ANN)
    analytics(key, {"externalId": "ann", "action": "Ran report"})
    assert set(UsageEvent.objects.values_list("account__external_id", flat=True)) == {"acme"}


def test_date_accepts_iso_and_epoch_milliseconds(key, workspace):
    moment = datetime.datetime(2026, 1, 5, 10, 30, tzinfo=datetime.UTC)
    items = [
        {**ANN, "date": "2026-01-05T10:30:00Z"},
        {**ANN, "date": to_ms(moment)},
    ]
    analytics(key, items, bulk=True)
    assert list(UsageEvent.objects.values_list("ts", flat=True)) == [to_ms(moment)] * 2


def test_count_expands_to_that_many_events_and_weight_is_kept(key, workspace, owner):
    update_usage_settings(owner.actor, {"module_property": "area"})
    item = {**ANN, "action": "Ran report", "count": 4, "weight": 3, "info": {"area": "Reports"}}
    assert analytics(key, item).json() == {"processed": 1, "errors": []}
    events = UsageEvent.objects.filter(workspace=workspace)
    assert events.count() == 4
    assert {(e.module, tuple(sorted(e.properties.items()))) for e in events} == {
        ("Reports", (("area", "Reports"), ("weight", 3)))
    }
    assert counts(workspace, "planhat") == (1, 1, 0, 0)


def test_a_missing_date_means_now(key, workspace):
    before = to_ms(timezone.now())
    analytics(key, ANN)
    assert UsageEvent.objects.get().ts >= before - 1000


def test_email_and_name_name_the_end_user(key, workspace):
    analytics(key, {**ANN, "email": "ann@acme.test", "name": "Ann Lee"})
    user = EndUser.objects.select_related("account").get(workspace=workspace)
    assert (user.email, user.name, user.account.external_id) == ("ann@acme.test", "Ann Lee", "acme")


@pytest.mark.parametrize(
    ("item", "reason", "field", "error"),
    [
        ("not an object", "invalid_item", "item", "item: expected an activity object"),
        (
            {"action": "x", "cId": "acme"},
            "missing_field",
            "externalId",
            "externalId: an activity needs its user",
        ),
        ({"externalId": "ann", "cId": "acme"}, "missing_field", "action", "action: is required"),
        (
            {**ANN, "date": "last tuesday"},
            "invalid_timestamp",
            "date",
            "date: 'last tuesday' is not an ISO 8601",
        ),
        (
            {**ANN, "date": "2999-01-01T00:00:00Z"},
            "future_timestamp",
            "date",
            "date: is more than 24 hours in the future",
        ),
        (
            {**ANN, "count": 1001},
            "invalid_field",
            "count",
            "count: is 1,001; the limit is 1,000 per item",
        ),
        ({**ANN, "count": 0}, "invalid_field", "count", "count: must be at least 1"),
        ({**ANN, "count": "two"}, "invalid_field", "count", "count: expected a whole number"),
        ({**ANN, "weight": "heavy"}, "invalid_field", "weight", "weight: expected a number"),
        ({**ANN, "info": [1, 2]}, "invalid_field", "info", "info: expected an object"),
        ({**ANN, "email": 42}, "invalid_field", "email", "email: expected text"),
        (
            {**ANN, "euExtId": None, "externalId": {"a": 1}},
            "invalid_field",
            "externalId",
            "externalId: expected text",
        ),
        (
            {**ANN, "companyExternalId": None, "cId": ["x"]},
            "invalid_field",
            "cId",
            "cId: expected text",
        ),
        (
            {**ANN, "action": "Logged\u0000in"},
            "invalid_field",
            "item",
            "item: contains a NUL character",
        ),
    ],
)
def test_a_bad_activity_is_refused_alone_and_reported(key, workspace, item, reason, field, error):
    response = analytics(key, [ANN, item], bulk=True)
    assert response.status_code == 200
    body = response.json()
    assert body["processed"] == 1
    assert [e["item"] for e in body["errors"]] == [item]
    assert body["errors"][0]["error"].startswith(error)
    rejection = IngestRejection.objects.get(workspace=workspace)
    assert (rejection.source, rejection.reason, rejection.field, rejection.index) == (
        "planhat",
        reason,
        field,
        1,
    )
    assert rejection.sample == (item if isinstance(item, str) else orjson.dumps(item).decode())
    assert UsageEvent.objects.filter(workspace=workspace).count() == 1
    assert counts(workspace, "planhat") == (2, 1, 0, 1)


def test_an_activity_of_a_user_without_an_account_is_refused_when_stored(key, workspace):
    item = {"externalId": "nobody", "action": "Logged in"}
    body = analytics(key, item).json()
    assert body == {"processed": 0, "errors": [{"item": item, "error": body["errors"][0]["error"]}]}
    assert body["errors"][0]["error"].startswith("account: the event names no account")
    rejection = IngestRejection.objects.get(workspace=workspace)
    assert (rejection.reason, rejection.field) == ("no_account", "account")
    assert orjson.loads(rejection.sample) == item


def test_an_unknown_user_is_refused_when_creating_them_is_off(key, workspace, owner):
    Account.objects.create(workspace=workspace, external_id="acme", name="Acme")
    update_usage_settings(owner.actor, {"create_unknown": False})
    body = analytics(key, ANN).json()
    assert body["processed"] == 0
    assert body["errors"][0]["error"].startswith("user: no end user with external id 'ann'")
    assert IngestRejection.objects.get(workspace=workspace).reason == "unknown_user"
    assert not UsageEvent.objects.exists()


def test_an_invalid_email_refuses_the_item(key, workspace):
    item = {**ANN, "email": "not an email"}
    body = analytics(key, item).json()
    assert body["processed"] == 0
    assert body["errors"][0]["error"].startswith("email:")
    assert IngestRejection.objects.get(workspace=workspace).field == "email"
    assert not UsageEvent.objects.exists()


# --- dimension data ------------------------------------------------------------------------


def test_dimension_data_is_stored_on_the_workspaces_day(key, workspace):
    workspace.time_zone = "Pacific/Auckland"
    workspace.save()
    # 20:00 UTC on 5 January is already 6 January in Auckland (UTC+13 in summer).
    item = {
        "dimensionId": "api_calls",
        "value": 7,
        "externalId": "acme",
        "date": "2026-01-05T20:00:00Z",
    }
    assert dimensions(key, item).json() == {"processed": 1, "errors": []}
    value = MetricValue.objects.select_related("metric", "account").get(workspace=workspace)
    assert (value.metric.key, value.account.external_id, value.value) == ("api_calls", "acme", 7.0)
    assert value.day == day_number(datetime.date(2026, 1, 6))
    assert counts(workspace, "planhat") == (1, 1, 0, 0)


def test_a_later_value_for_the_same_day_replaces_the_earlier_one(key, workspace):
    item = {"dimensionId": "seats_used", "value": 5, "externalId": "acme", "date": "2026-01-05"}
    dimensions(key, item)
    dimensions(key, [{**item, "value": 8}])
    assert list(MetricValue.objects.values_list("value", flat=True)) == [8.0]


@pytest.mark.parametrize(
    ("item", "reason", "field", "error"),
    [
        ([1], "invalid_item", "item", "item: expected a dimension data object"),
        (
            {"value": 1, "externalId": "acme"},
            "missing_field",
            "dimensionId",
            "dimensionId: is required",
        ),
        (
            {"dimensionId": "x" * 101, "value": 1, "externalId": "acme"},
            "invalid_field",
            "dimensionId",
            "dimensionId: is longer than",
        ),
        (
            {"dimensionId": "calls", "externalId": "acme"},
            "missing_field",
            "value",
            "value: is required",
        ),
        (
            {"dimensionId": "calls", "value": "many", "externalId": "acme"},
            "invalid_field",
            "value",
            "value: expected a number",
        ),
        (
            {"dimensionId": "calls", "value": True, "externalId": "acme"},
            "invalid_field",
            "value",
            "value: expected a number",
        ),
        (
            {"dimensionId": "calls", "value": 1},
            "missing_field",
            "externalId",
            "externalId: is required",
        ),
        (
            {"dimensionId": "ca\u0000lls", "value": 1, "externalId": "acme"},
            "invalid_field",
            "item",
            "item: contains a NUL",
        ),
        (
            {"dimensionId": "calls", "value": 1, "externalId": "acme", "model": "Asset"},
            "unsupported",
            "model",
            "model: 'Asset': only Company",
        ),
        (
            {"dimensionId": "calls", "value": 1, "externalId": "acme", "date": "2026-13-45"},
            "invalid_timestamp",
            "date",
            "date: '2026-13-45' is not a date",
        ),
    ],
)
def test_a_bad_dimension_value_is_refused_alone_and_reported(
    key, workspace, item, reason, field, error
):
    good = {"dimensionId": "calls", "value": 1, "externalId": "acme"}
    body = dimensions(key, [good, item]).json()
    assert body["processed"] == 1
    assert [e["item"] for e in body["errors"]] == [item]
    assert body["errors"][0]["error"].startswith(error)
    rejection = IngestRejection.objects.get(workspace=workspace)
    assert (rejection.source, rejection.reason, rejection.field, rejection.index) == (
        "planhat",
        reason,
        field,
        1,
    )
    assert orjson.loads(rejection.sample) == item
    assert MetricValue.objects.filter(workspace=workspace).count() == 1


def test_an_unknown_company_is_refused_when_creating_accounts_is_off(key, workspace, owner):
    update_usage_settings(owner.actor, {"create_unknown": False})
    body = dimensions(key, {"dimensionId": "calls", "value": 1, "externalId": "acme"}).json()
    assert body["processed"] == 0
    assert body["errors"][0]["error"].startswith("account: no account with external id 'acme'")
    assert IngestRejection.objects.get(workspace=workspace).reason == "unknown_account"


# --- whole requests -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["analytics/{}", "analytics/bulk/{}", "dimensiondata/{}"])
def test_malformed_json_is_400_with_the_same_shape_and_logged(key, workspace, path):
    response = post("/ingest/planhat/" + path.format(key), b"[{")
    assert response.status_code == 400
    body = response.json()
    assert body["processed"] == 0
    assert body["errors"][0]["item"] is None
    assert body["errors"][0]["error"].startswith("body: is not valid JSON")
    rejection = IngestRejection.objects.get(workspace=workspace)
    assert (rejection.reason, rejection.field, rejection.index, rejection.sample) == (
        "invalid_json",
        "body",
        None,
        "[{",
    )


def test_a_body_that_is_neither_object_nor_array_is_400(key, workspace):
    response = analytics(key, b'"hello"')
    assert response.status_code == 400
    assert (
        response.json()["errors"][0]["error"] == "body: expected an object or an array of objects"
    )
    assert IngestRejection.objects.get(workspace=workspace).reason == "invalid_item"


def test_too_many_items_is_413(key, workspace):
    response = analytics(key, [ANN] * 10_001, bulk=True)
    assert response.status_code == 413
    assert "limit is 10,000" in response.json()["errors"][0]["error"]
    assert IngestRejection.objects.get(workspace=workspace).reason == "too_large"
    assert not UsageEvent.objects.exists()


def test_a_get_is_405(key):
    response = Client().get(f"/ingest/planhat/analytics/{key}")
    assert response.status_code == 405
    assert response.json() == {
        "processed": 0,
        "errors": [{"item": None, "error": "method: use POST"}],
    }


@pytest.mark.parametrize(
    "authorization",
    ["Bearer some-planhat-api-token", "Basic dGVuYW50LXRva2VuOg==", "Bearer tend_not_a_token"],
)
def test_any_authorization_header_is_ignored(key, workspace, authorization):
    response = analytics(key, ANN, HTTP_AUTHORIZATION=authorization)
    assert response.json() == {"processed": 1, "errors": []}
    assert UsageEvent.objects.filter(workspace=workspace).count() == 1
