"""The Segment spec at ``/ingest/segment/v1/...``: auth variants, gzip, the mapping of each
message type, tolerance of nulls, clock skew, and the exact HTTP answers."""

import base64
import datetime
import gzip

import orjson
import pytest
from django.test import Client
from django.utils import timezone

from tend.accounts.models import Account, AttributeDefinition, AttributeType, EndUser
from tend.lib.dates import to_ms
from tend.test import make_token
from tend.usage.actions.settings import update_usage_settings
from tend.usage.models import IngestRejection, UsageEvent
from tend.usage.tests.wire import counts

pytestmark = pytest.mark.django_db
BATCH = "/ingest/segment/v1/batch"


@pytest.fixture
def key(workspace):
    return make_token(workspace, ("ingest",), name="segment write key")


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def post(path, body, *, key=None, auth=None, encoding=None):
    """POST as a Segment client does: JSON, the write key in the body unless ``auth``."""
    if isinstance(body, dict) and key is not None:
        body = {**body, "writeKey": key}
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    headers = {}
    if auth:
        headers["HTTP_AUTHORIZATION"] = auth
    if encoding:
        headers["HTTP_CONTENT_ENCODING"] = encoding
    return Client().post(path, data=data, content_type="application/json", **headers)


def track(n=0, **fields):
    return {
        "type": "track",
        "userId": "ann@acme.test",
        "event": "Ran report",
        "properties": {"module": "Reports"},
        "context": {"groupId": "acme"},
        "messageId": f"m-{n}",
        **fields,
    }


def batch(*messages, **fields):
    return {"batch": list(messages), **fields}


# --- the answers ------------------------------------------------------------------------


def test_a_batch_is_stored_and_answered_with_exactly_200(key, workspace):
    response = post(BATCH, batch(track(0), track(1)), key=key)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["success"] is True
    assert (body["received"], body["stored"], body["duplicates"], body["rejected"]) == (2, 2, 0, 0)
    events = UsageEvent.objects.filter(workspace=workspace).order_by("message_id")
    assert [(e.activity, e.module, e.source, e.message_id) for e in events] == [
        ("Ran report", "Reports", "segment", "m-0"),
        ("Ran report", "Reports", "segment", "m-1"),
    ]
    assert counts(workspace, "segment") == (2, 2, 0, 0)


def test_the_write_key_may_come_as_the_basic_username_alone(key, workspace):
    response = post(BATCH, batch(track()), auth=basic(key))
    assert response.status_code == 200
    assert UsageEvent.objects.filter(workspace=workspace).count() == 1


def test_a_bearer_header_with_the_write_key_in_the_body_is_accepted(key, workspace):
    # Segment's OAuth mode: an access token in the header, the write key in the body.
    response = post(BATCH, batch(track()), key=key, auth="Bearer some-oauth-access-token")
    assert response.status_code == 200
    assert UsageEvent.objects.filter(workspace=workspace).count() == 1


def test_a_gzip_body_is_inflated(key, workspace):
    body = gzip.compress(orjson.dumps(batch(track(0), track(1), writeKey=key)))
    response = post(BATCH, body, encoding="gzip")
    assert response.status_code == 200
    assert UsageEvent.objects.filter(workspace=workspace).count() == 2


@pytest.mark.parametrize(
    ("kind", "message", "activity"),
    [
        (
            "track",
            {"userId": "u1", "event": "Ran report", "context": {"groupId": "acme"}},
            "Ran report",
        ),
        ("page", {"userId": "u1", "name": "Pricing", "context": {"groupId": "acme"}}, "Pricing"),
        ("screen", {"userId": "u1", "name": None, "context": {"groupId": "acme"}}, "Screen viewed"),
    ],
)
def test_each_single_call_endpoint_takes_its_type_from_the_path(
    key, workspace, kind, message, activity
):
    response = post(f"/ingest/segment/v1/{kind}", message, key=key)
    assert response.status_code == 200
    assert UsageEvent.objects.get(workspace=workspace).activity == activity


def test_identify_group_and_alias_have_endpoints_of_their_own(key, workspace):
    assert (
        post("/ingest/segment/v1/group", {"userId": "u1", "groupId": "acme"}, key=key).status_code
        == 200
    )
    assert (
        post(
            "/ingest/segment/v1/identify", {"userId": "u1", "traits": {"name": "Ann"}}, key=key
        ).status_code
        == 200
    )
    assert (
        post("/ingest/segment/v1/alias", {"userId": "ann", "previousId": "u1"}, key=key).status_code
        == 200
    )
    user = EndUser.objects.get(workspace=workspace)
    assert (user.external_id, user.name, user.account.external_id) == ("ann", "Ann", "acme")


def test_a_get_is_refused_with_405_and_a_json_reason():
    response = Client().get(BATCH)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {"code": "method_not_allowed", "message": "use POST"}


# --- refusals of the whole body -----------------------------------------------------------


def test_malformed_json_is_400_and_logged_when_the_key_is_known(key, workspace):
    response = post(BATCH, b'{"batch": [', auth=basic(key))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"
    assert "not valid JSON" in response.json()["message"]
    rejection = IngestRejection.objects.get(workspace=workspace)
    assert (rejection.source, rejection.reason, rejection.field, rejection.index) == (
        "segment",
        "invalid_json",
        "body",
        None,
    )
    assert rejection.sample == '{"batch": ['


def test_a_sample_of_a_refused_body_never_keeps_the_write_key(key, workspace):
    post(BATCH, f'{{"writeKey": "{key}", "batch": [}}'.encode(), auth=basic(key))
    sample = IngestRejection.objects.get(workspace=workspace).sample
    assert key not in sample
    assert '"writeKey": "[redacted]"' in sample


def test_broken_gzip_is_400(key, workspace):
    response = post(BATCH, b"\x1f\x8b\x08not really gzip", auth=basic(key), encoding="gzip")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_gzip"
    assert IngestRejection.objects.get(workspace=workspace).reason == "invalid_json"


def test_an_unknown_content_encoding_is_400(key, workspace):
    response = post(BATCH, orjson.dumps(batch(track())), auth=basic(key), encoding="br")
    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_encoding"
    assert not UsageEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"[1, 2]", "body must be a JSON object"), (b'{"batch": {"a": 1}}', '"batch": an array')],
)
def test_a_body_that_is_not_a_batch_is_400(key, workspace, body, message):
    response = post(BATCH, body, auth=basic(key))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert message in response.json()["message"]
    assert IngestRejection.objects.get(workspace=workspace).reason == "invalid_item"


def test_a_batch_context_holding_a_nul_is_400(key, workspace):
    response = post(BATCH, batch(track(), context={"groupId": "ac\u0000me"}), key=key)
    assert response.status_code == 400
    assert "NUL" in response.json()["message"]
    assert IngestRejection.objects.get(workspace=workspace).reason == "invalid_field"
    assert not UsageEvent.objects.exists()


def test_a_batch_over_500_kb_is_413(key, workspace):
    big = batch(
        *[track(i, properties={"module": "Reports", "pad": "x" * 1000}) for i in range(520)]
    )
    response = post(BATCH, big, key=key)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert not UsageEvent.objects.exists()


def test_a_gzip_bomb_is_413_without_being_inflated_whole(key, workspace):
    bomb = gzip.compress(b'{"batch": [' + b" " * (50 * 1024 * 1024) + b"]}")
    assert len(bomb) < 100_000
    response = post(BATCH, bomb, auth=basic(key), encoding="gzip")
    assert response.status_code == 413
    rejection = IngestRejection.objects.get(workspace=workspace)
    assert (rejection.reason, rejection.field) == ("too_large", "body")
    assert "500 KB" in rejection.message


def test_a_single_call_over_32_kb_is_413(key, workspace):
    message = track(properties={"pad": "x" * 33_000})
    response = post("/ingest/segment/v1/track", message, key=key)
    assert response.status_code == 413
    assert "32 KB" in response.json()["message"]
    assert not UsageEvent.objects.exists()


def test_an_unknown_key_is_401_and_stores_nothing(workspace):
    response = post(BATCH, batch(track()), key="tend_not-a-real-key")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_write_key"
    assert not UsageEvent.objects.exists()
    assert counts(workspace, "segment") == (0, 0, 0, 0)


def test_no_key_at_all_is_401(workspace):
    response = post(BATCH, batch(track()))
    assert response.status_code == 401
    assert response.json()["code"] == "missing_write_key"


# --- refusals of single messages inside a batch ---------------------------------------------


def _refused(response, workspace):
    assert response.status_code == 200
    return IngestRejection.objects.get(workspace=workspace)


@pytest.mark.parametrize(
    ("message", "reason", "field"),
    [
        ("not a message", "invalid_item", "message"),
        ({"userId": "u1", "event": "x"}, "missing_field", "type"),
        ({"type": "purchase", "userId": "u1"}, "invalid_field", "type"),
        (
            {"type": "track", "event": "Ran report", "context": {"groupId": "acme"}},
            "missing_field",
            "userId",
        ),
        (
            {"type": "track", "userId": None, "anonymousId": None, "event": "x"},
            "missing_field",
            "userId",
        ),
        (
            {"type": "track", "userId": "u1", "context": {"groupId": "acme"}},
            "missing_field",
            "event",
        ),
        ({"type": "track", "userId": "u1", "event": None}, "missing_field", "event"),
        ({"type": "track", "userId": "u1", "event": "x" * 201}, "invalid_field", "event"),
        ({"type": "track", "userId": {"id": 1}, "event": "x"}, "invalid_field", "userId"),
        ({"type": "track", "anonymousId": "a1", "event": "x"}, "no_account", "context.groupId"),
        (
            {"type": "track", "userId": "u1", "event": "x", "properties": [1]},
            "invalid_field",
            "properties",
        ),
        (
            {"type": "track", "userId": "u1", "event": "x", "context": "acme"},
            "invalid_field",
            "context",
        ),
        (
            {"type": "track", "userId": "u1", "event": "x", "timestamp": "yesterday"},
            "invalid_timestamp",
            "timestamp",
        ),
        (
            {"type": "track", "userId": "u1", "event": "x", "messageId": ["m"]},
            "invalid_field",
            "messageId",
        ),
        (
            {"type": "track", "userId": "u1", "event": "x", "properties": {"module": {"a": 1}}},
            "invalid_field",
            "properties.module",
        ),
        (
            {"type": "identify", "anonymousId": "a1", "traits": {"plan": "pro"}},
            "missing_field",
            "userId",
        ),
        ({"type": "identify", "userId": "u1", "traits": "pro"}, "invalid_field", "traits"),
        ({"type": "group", "userId": "u1", "traits": {"name": "Acme"}}, "missing_field", "groupId"),
        ({"type": "alias", "userId": "ann"}, "missing_field", "previousId"),
        ({"type": "alias", "anonymousId": "a1", "previousId": "u1"}, "missing_field", "userId"),
        ({"type": "track", "userId": "u1", "event": "Ran\u0000report"}, "invalid_field", "message"),
        (
            {"type": "identify", "userId": "u1", "traits": {"na\u0000me": "x"}},
            "invalid_field",
            "message",
        ),
    ],
)
def test_a_bad_message_is_refused_alone_with_its_reason(key, workspace, message, reason, field):
    response = post(BATCH, batch(track(1), message, track(2)), key=key)
    rejection = _refused(response, workspace)
    assert (rejection.source, rejection.reason, rejection.field, rejection.index) == (
        "segment",
        reason,
        field,
        1,
    )
    assert rejection.sample == (
        message if isinstance(message, str) else orjson.dumps(message).decode()
    )
    body = response.json()
    assert (body["stored"], body["rejected"]) == (2, 1)
    assert body["errors"][0]["field"] == field
    assert set(UsageEvent.objects.values_list("message_id", flat=True)) == {"m-1", "m-2"}


def test_identify_without_a_user_id_says_why(key, workspace):
    response = post(BATCH, batch({"type": "identify", "anonymousId": "a1", "traits": {}}), key=key)
    assert "identify needs a userId" in _refused(response, workspace).message


def test_a_message_over_32_kb_inside_a_batch_is_refused_alone(key, workspace):
    large = track(9, properties={"pad": "x" * 33_000})
    response = post(BATCH, batch(track(1), large), key=key)
    rejection = _refused(response, workspace)
    assert (rejection.reason, rejection.field, rejection.index) == ("too_large", "message", 1)
    assert len(rejection.sample) <= 1000
    assert list(UsageEvent.objects.values_list("message_id", flat=True)) == ["m-1"]


def test_a_timestamp_a_day_ahead_of_the_corrected_clock_is_refused(key, workspace):
    ahead = (timezone.now() + datetime.timedelta(days=3)).isoformat()
    response = post(BATCH, batch(track(1, timestamp=ahead)), key=key)
    assert _refused(response, workspace).reason == "future_timestamp"


def test_a_track_whose_user_belongs_to_no_account_is_refused_when_stored(key, workspace):
    message = track(1, context={}, properties={})
    response = post(BATCH, batch(message), key=key)
    rejection = _refused(response, workspace)
    assert (rejection.reason, rejection.field, rejection.index) == ("no_account", "account", 0)
    # Refused while storing, after parsing: the sample is still the message, as JSON.
    assert orjson.loads(rejection.sample) == message


def test_a_trait_that_does_not_fit_its_attribute_is_refused(key, workspace):
    AttributeDefinition.objects.create(
        workspace=workspace, key="seats", label="Seats", type=AttributeType.NUMBER
    )
    group = {"type": "group", "userId": "u1", "groupId": "acme", "traits": {"seats": "lots"}}
    response = post(BATCH, batch(group), key=key)
    rejection = _refused(response, workspace)
    assert (rejection.reason, rejection.field) == ("invalid_attribute", "attributes.seats")
    assert orjson.loads(rejection.sample) == group
    assert not Account.objects.filter(workspace=workspace, attributes__has_key="seats").exists()


def test_an_unknown_account_is_refused_when_creating_them_is_off(key, workspace, owner):
    update_usage_settings(owner.actor, {"create_unknown": False})
    response = post(BATCH, batch(track(1)), key=key)
    rejection = _refused(response, workspace)
    assert (rejection.reason, rejection.field) == ("unknown_account", "account")
    assert not UsageEvent.objects.exists()


def test_an_unknown_user_is_refused_when_creating_them_is_off(key, workspace, owner):
    Account.objects.create(workspace=workspace, external_id="acme", name="Acme")
    update_usage_settings(owner.actor, {"create_unknown": False})
    response = post(BATCH, batch(track(1)), key=key)
    rejection = _refused(response, workspace)
    assert (rejection.reason, rejection.field) == ("unknown_user", "user")
    assert "ann@acme.test" in rejection.message
    assert not UsageEvent.objects.exists()


def test_an_alias_between_two_known_users_is_refused_as_unsupported(key, workspace):
    account = Account.objects.create(workspace=workspace, external_id="acme", name="Acme")
    for external_id in ("anon-7", "ann"):
        EndUser.objects.create(workspace=workspace, external_id=external_id, account=account)
    alias = {"type": "alias", "previousId": "anon-7", "userId": "ann"}
    rejection = _refused(post(BATCH, batch(alias), key=key), workspace)
    assert (rejection.reason, rejection.field) == ("unsupported", "previousId")
    assert orjson.loads(rejection.sample) == alias
    assert EndUser.objects.filter(workspace=workspace).count() == 2


# --- mapping --------------------------------------------------------------------------------


def test_group_creates_the_account_with_its_name_and_attributes_and_links_the_user(key, workspace):
    AttributeDefinition.objects.create(
        workspace=workspace, key="plan", label="Plan", type=AttributeType.TEXT
    )
    group = {
        "type": "group",
        "userId": "ann@acme.test",
        "groupId": "acme",
        "traits": {"name": "Acme Corp", "plan": "Gold", "status": "Paying"},
    }
    post(BATCH, batch(group), key=key)
    account = Account.objects.get(workspace=workspace, external_id="acme")
    assert (account.name, account.attributes, account.status) == (
        "Acme Corp",
        {"plan": "Gold"},
        "paying",
    )
    user = EndUser.objects.get(workspace=workspace, external_id="ann@acme.test")
    assert (user.account_id, user.email) == (account.pk, "ann@acme.test")


def test_a_group_parent_id_builds_the_hierarchy(key, workspace):
    group = {"type": "group", "userId": "u1", "groupId": "acme-eu", "traits": {"parentId": "acme"}}
    post(BATCH, batch(group), key=key)
    child = Account.objects.select_related("parent").get(workspace=workspace, external_id="acme-eu")
    assert (child.parent.external_id, child.parent.name) == ("acme", "acme")


def test_identify_sets_email_name_and_the_account_from_traits_or_context(key, workspace):
    messages = [
        {
            "type": "identify",
            "userId": "u1",
            "traits": {
                "email": "ann@acme.test",
                "firstName": "Ann",
                "lastName": "Lee",
                "groupId": "acme",
            },
        },
        {
            "type": "identify",
            "userId": "u2",
            "traits": {"groupId": "acme"},
            "context": {"groupId": "globex"},
        },
    ]
    post(BATCH, batch(*messages), key=key)
    ann = EndUser.objects.select_related("account").get(workspace=workspace, external_id="u1")
    assert (ann.email, ann.name, ann.account.external_id) == ("ann@acme.test", "Ann Lee", "acme")
    # context.groupId wins over traits.groupId.
    assert (
        EndUser.objects.get(workspace=workspace, external_id="u2").account.external_id == "globex"
    )


def test_identify_reads_traits_from_the_context_as_rudderstack_sends_them(key, workspace):
    message = {
        "type": "identify",
        "userId": "u1",
        "context": {"traits": {"email": "ann@acme.test", "name": "Ann"}, "groupId": "acme"},
        "traits": {"name": "Ann Lee"},
    }
    post(BATCH, batch(message), key=key)
    user = EndUser.objects.get(workspace=workspace, external_id="u1")
    assert (user.email, user.name, user.account.external_id) == ("ann@acme.test", "Ann Lee", "acme")


def test_track_takes_its_account_from_context_then_properties_then_the_user(key, workspace):
    post(BATCH, batch({"type": "group", "userId": "u1", "groupId": "known"}), key=key)
    messages = [
        track(1, userId="u1", context={"groupId": "ctx"}, properties={"groupId": "prop"}),
        track(2, userId="u1", context={}, properties={"groupId": "prop"}),
        track(3, userId="u1", context=None, properties=None),
    ]
    post(BATCH, batch(*messages), key=key)
    events = UsageEvent.objects.filter(workspace=workspace).order_by("message_id")
    assert [Account.objects.get(pk=e.account_id).external_id for e in events] == [
        "ctx",
        "prop",
        "known",
    ]


def test_track_maps_module_duration_properties_and_message_id(key, workspace):
    message = track(
        7,
        properties={"module": "Reports", "duration_seconds": 42.5, "format": "csv"},
        timestamp="2026-01-02T03:04:05.678Z",
    )
    post(BATCH, batch(message), key=key)
    event = UsageEvent.objects.get(workspace=workspace)
    assert (event.module, event.duration, event.message_id) == ("Reports", 42.5, "m-7")
    assert event.properties == {"module": "Reports", "duration_seconds": 42.5, "format": "csv"}
    assert event.ts == to_ms(datetime.datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=datetime.UTC))
    assert EndUser.objects.get(pk=event.end_user_id).external_id == "ann@acme.test"


def test_a_duration_that_is_not_a_number_stays_in_the_properties_only(key, workspace):
    post(BATCH, batch(track(properties={"duration_seconds": "long"})), key=key)
    event = UsageEvent.objects.get(workspace=workspace)
    assert (event.duration, event.properties) == (None, {"duration_seconds": "long"})


def test_the_module_property_is_a_workspace_setting(key, workspace, owner):
    update_usage_settings(owner.actor, {"module_property": "area"})
    post(BATCH, batch(track(properties={"area": "Billing", "module": "Reports"})), key=key)
    assert UsageEvent.objects.get(workspace=workspace).module == "Billing"


def test_page_and_screen_are_events_named_by_the_page(key, workspace):
    messages = [
        {
            "type": "page",
            "userId": "u1",
            "name": "Pricing",
            "category": "Marketing",
            "context": {"groupId": "acme"},
            "messageId": "p1",
        },
        {
            "type": "page",
            "userId": "u1",
            "name": None,
            "category": None,
            "properties": {"module": "Docs"},
            "context": {"groupId": "acme"},
            "messageId": "p2",
        },
        {
            "type": "screen",
            "userId": "u1",
            "name": "Home",
            "context": {"groupId": "acme"},
            "messageId": "s1",
        },
    ]
    post(BATCH, batch(*messages), key=key)
    events = UsageEvent.objects.filter(workspace=workspace).order_by("message_id")
    assert [(e.message_id, e.activity, e.module) for e in events] == [
        ("p1", "Pricing", "Marketing"),
        ("p2", "Page viewed", "Docs"),
        ("s1", "Home", ""),
    ]


def test_alias_renames_the_end_user(key, workspace):
    post(
        BATCH,
        batch({"type": "identify", "userId": "anon-7", "traits": {"groupId": "acme"}}),
        key=key,
    )
    post(BATCH, batch({"type": "alias", "previousId": "anon-7", "userId": "ann"}), key=key)
    assert list(
        EndUser.objects.filter(workspace=workspace).values_list("external_id", flat=True)
    ) == ["ann"]


def test_an_anonymous_track_with_a_group_is_stored_without_an_end_user(key, workspace):
    message = track(userId=None, anonymousId="visitor-1")
    post(BATCH, batch(message), key=key)
    event = UsageEvent.objects.get(workspace=workspace)
    assert event.end_user_id is None
    assert Account.objects.get(pk=event.account_id).external_id == "acme"
    assert not EndUser.objects.filter(workspace=workspace).exists()


def test_the_batch_context_applies_to_every_message(key, workspace):
    messages = [track(1, context=None), track(2, context={"groupId": "own"})]
    post(BATCH, batch(*messages, context={"groupId": "shared"}), key=key)
    events = UsageEvent.objects.filter(workspace=workspace).order_by("message_id")
    assert [Account.objects.get(pk=e.account_id).external_id for e in events] == ["shared", "own"]


def test_nulls_are_tolerated_everywhere(key, workspace):
    # What segment-analytics-python and rudder-sdk-python send for values they were not given.
    common = {"anonymousId": None, "context": None, "integrations": None, "timestamp": None}
    messages = [
        {
            **common,
            "type": "group",
            "userId": "u1",
            "groupId": "acme",
            "traits": None,
            "messageId": "g",
        },
        {**common, "type": "identify", "userId": "u1", "traits": None, "messageId": "i"},
        {
            **common,
            "type": "track",
            "userId": "u1",
            "event": "Ran report",
            "properties": None,
            "messageId": "t",
        },
        {
            **common,
            "type": "page",
            "userId": "u1",
            "name": None,
            "category": None,
            "properties": None,
            "messageId": "p",
        },
        {
            **common,
            "type": "track",
            "userId": "u1",
            "event": "No id",
            "properties": {"module": None},
            "messageId": None,
        },
    ]
    response = post(BATCH, batch(*messages, context=None, integrations=None, sentAt=None), key=key)
    assert response.json()["rejected"] == 0
    assert UsageEvent.objects.filter(workspace=workspace).count() == 3
    assert EndUser.objects.get(workspace=workspace).account.external_id == "acme"


def test_timestamps_are_corrected_by_the_clients_clock_skew(key, workspace):
    # The client's clock runs two days fast: its sentAt and timestamps are all two days ahead.
    skew = datetime.timedelta(days=2)
    now = timezone.now()
    happened = now - datetime.timedelta(minutes=5)
    message = track(timestamp=(happened + skew).isoformat())
    response = post(BATCH, batch(message, sentAt=(now + skew).isoformat()), key=key)
    assert response.json()["rejected"] == 0
    stored = UsageEvent.objects.get(workspace=workspace).ts
    assert abs(stored - to_ms(happened)) < 5_000


def test_a_missing_timestamp_means_now(key, workspace):
    before = to_ms(timezone.now())
    post(BATCH, batch(track(timestamp=None)), key=key)
    assert (
        before - 1000
        <= UsageEvent.objects.get(workspace=workspace).ts
        <= to_ms(timezone.now()) + 1000
    )


# --- duplicates ---------------------------------------------------------------------------


def test_the_same_batch_sent_three_times_is_stored_once(key, workspace):
    body = batch(
        *[track(i) for i in range(5)], {"type": "identify", "userId": "u9", "messageId": "i-9"}
    )
    answers = [post(BATCH, body, key=key).json() for _ in range(3)]
    assert [(a["stored"], a["duplicates"]) for a in answers] == [(6, 0), (0, 6), (0, 6)]
    assert UsageEvent.objects.filter(workspace=workspace).count() == 5
    assert counts(workspace, "segment") == (18, 6, 12, 0)
