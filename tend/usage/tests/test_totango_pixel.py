"""Totango's HTTP collector at ``/ingest/totango/pixel.gif``: always a GIF with 200, as Totango
answers, but every call that cannot be used is refused with a reason in the ingestion log."""

import logging

import orjson
import pytest
from django.test import Client

from tend.accounts.models import Account, AttributeDefinition, AttributeType, EndUser, ObjectType
from tend.test import make_token
from tend.usage.actions.settings import update_usage_settings
from tend.usage.models import IngestRejection, UsageEvent
from tend.usage.tests.wire import counts

pytestmark = pytest.mark.django_db
PIXEL = "/ingest/totango/pixel.gif"


@pytest.fixture
def key(workspace):
    return make_token(workspace, ("ingest",), name="totango service id")


def assert_pixel(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response["Cache-Control"] == "no-store"
    assert response.content.startswith(b"GIF89a") and len(response.content) == 42


def activity(key, **params):
    return {
        "sdr_s": key,
        "sdr_o": "acme",
        "sdr_u": "ann@acme.test",
        "sdr_a": "Ran report",
        "sdr_m": "Reports",
        **params,
    }


@pytest.mark.parametrize("path", [PIXEL, PIXEL + "/"])
def test_a_get_call_stores_the_activity(key, workspace, path):
    assert_pixel(Client().get(path, activity(key)))
    event = UsageEvent.objects.get(workspace=workspace)
    assert (event.activity, event.module, event.source) == ("Ran report", "Reports", "totango")
    assert EndUser.objects.get(pk=event.end_user_id).external_id == "ann@acme.test"
    assert counts(workspace, "totango") == (1, 1, 0, 0)


def test_a_form_post_stores_the_activity(key, workspace):
    assert_pixel(Client().post(PIXEL + "/", activity(key)))
    assert UsageEvent.objects.filter(workspace=workspace).count() == 1


def test_attribute_names_with_spaces_map_to_attributes_by_label(key, workspace):
    AttributeDefinition.objects.create(
        workspace=workspace,
        key="contract_value",
        label="Contract Value",
        type=AttributeType.CURRENCY,
    )
    AttributeDefinition.objects.create(
        workspace=workspace,
        key="renewal_date",
        label="Contract Renewal Date",
        type=AttributeType.DATE,
    )
    AttributeDefinition.objects.create(
        workspace=workspace,
        object_type=ObjectType.USER,
        key="key_contact",
        label="Key Contact",
        type=AttributeType.BOOLEAN,
    )
    query = (
        f"sdr_s={key}&sdr_o=acme&sdr_u=ann%40acme.test&sdr_o.Contract%20Value=12000"
        "&sdr_o.Contract%20Renewal%20Date=2027-03-31&sdr_u.Key%20Contact=yes&sdr_u.name=Ann%20Lee"
    )
    assert_pixel(Client().get(f"{PIXEL}?{query}"))
    account = Account.objects.get(workspace=workspace, external_id="acme")
    assert account.attributes == {"contract_value": 12000, "renewal_date": "2027-03-31"}
    user = EndUser.objects.get(workspace=workspace)
    assert (user.name, user.attributes, user.account_id) == (
        "Ann Lee",
        {"key_contact": True},
        account.pk,
    )
    assert not UsageEvent.objects.exists()  # no sdr_a: a pure attribute update


def test_parent_id_builds_the_hierarchy_and_status_sets_the_status(key, workspace):
    params = {"sdr_s": key, "sdr_o": "acme-eu", "sdr_o.parent_id": "acme", "sdr_o.Status": "Paying"}
    assert_pixel(Client().get(PIXEL, params))
    child = Account.objects.select_related("parent").get(workspace=workspace, external_id="acme-eu")
    assert (child.parent.external_id, child.status) == ("acme", "paying")


def test_unknown_sdr_parameters_are_ignored(key, workspace):
    params = activity(key, sdr_p="0.6.0", sdr_heartbeat="1", sdrurl="https://app.test/", r="0.5")
    assert_pixel(Client().get(PIXEL, params))
    assert UsageEvent.objects.filter(workspace=workspace).count() == 1
    assert not IngestRejection.objects.exists()


@pytest.mark.parametrize(
    ("params", "reason", "field", "words"),
    [
        ({"sdr_o": None}, "missing_field", "sdr_o", "an activity needs the account id"),
        ({"sdr_a": None}, "missing_field", "sdr_a", "without an activity"),
        ({"sdr_o": None, "sdr_u": None}, "missing_field", "sdr_o", "neither an account"),
        (
            {"sdr_o": None, "sdr_a": None, "sdr_m": None, "sdr_odn": "Acme"},
            "missing_field",
            "sdr_o",
            "without the account id",
        ),
        ({"sdr_a": "x" * 201}, "invalid_field", "sdr_a", "longer than 200"),
        ({"sdr_o.": "x"}, "invalid_field", "sdr_o.", "names no attribute"),
        ({"sdr_a": "Ran\x00report"}, "invalid_field", "sdr_a", "contains a NUL character"),
    ],
)
def test_a_call_that_cannot_be_used_is_refused_in_the_log_and_still_answered_with_a_gif(
    key, workspace, params, reason, field, words
):
    call = {name: value for name, value in {**activity(key), **params}.items() if value is not None}
    assert_pixel(Client().get(PIXEL, call))
    rejection = IngestRejection.objects.get(workspace=workspace)
    assert (rejection.source, rejection.reason, rejection.field, rejection.index) == (
        "totango",
        reason,
        field,
        0,
    )
    assert words in rejection.message
    # The sample shows the call without the service id, which is a credential.
    assert orjson.loads(rejection.sample) == {n: v for n, v in call.items() if n != "sdr_s"}
    assert not UsageEvent.objects.exists()
    assert not Account.objects.filter(workspace=workspace).exists()
    assert counts(workspace, "totango") == (1, 0, 0, 1)


def test_a_bad_attribute_value_is_refused_with_the_attribute_named(key, workspace):
    AttributeDefinition.objects.create(
        workspace=workspace,
        key="contract_value",
        label="Contract Value",
        type=AttributeType.CURRENCY,
    )
    assert_pixel(Client().get(PIXEL, activity(key, **{"sdr_o.Contract Value": "a lot"})))
    rejection = IngestRejection.objects.get(workspace=workspace)
    assert (rejection.reason, rejection.field) == ("invalid_attribute", "attributes.contract_value")
    assert "a lot" in rejection.sample and key not in rejection.sample
    assert not UsageEvent.objects.exists()


def test_an_unknown_parent_is_refused_when_creating_accounts_is_off(key, workspace, owner):
    update_usage_settings(owner.actor, {"create_unknown": False})
    assert_pixel(Client().get(PIXEL, {"sdr_s": key, "sdr_o": "acme", "sdr_o.parent_id": "nowhere"}))
    assert set(IngestRejection.objects.values_list("reason", flat=True)) == {"unknown_account"}


def test_an_unknown_user_is_refused_when_creating_them_is_off(key, workspace, owner):
    Account.objects.create(workspace=workspace, external_id="acme", name="Acme")
    update_usage_settings(owner.actor, {"create_unknown": False})
    assert_pixel(Client().get(PIXEL, activity(key)))
    rejection = IngestRejection.objects.get(workspace=workspace)
    assert (rejection.reason, rejection.field) == ("unknown_user", "user")
    assert orjson.loads(rejection.sample)["sdr_u"] == "ann@acme.test"
    assert not UsageEvent.objects.exists()


def test_a_form_with_too_many_fields_is_refused_in_the_log(key, workspace):
    fields = {f"sdr_o.attribute {n}": "x" for n in range(10_001)}
    response = Client().post(f"{PIXEL}/?sdr_s={key}&sdr_o=acme", fields)
    assert_pixel(response)
    rejection = IngestRejection.objects.get(workspace=workspace)
    assert (rejection.reason, rejection.field) == ("too_large", "body")
    assert key not in rejection.sample
    assert not Account.objects.filter(workspace=workspace).exists()


def test_an_unknown_key_is_logged_as_a_warning_and_still_answered_with_a_gif(workspace, caplog):
    with caplog.at_level(logging.WARNING, logger="tend.usage.ingest"):
        assert_pixel(Client().get(PIXEL, activity("tend_unknown_service_id")))
    assert "not an ingest key" in caplog.text
    assert "tend_unknown_service_id" not in caplog.text  # only the start of a key is logged
    assert not UsageEvent.objects.exists()
    assert not IngestRejection.objects.exists()


def test_a_call_without_any_key_is_answered_with_a_gif(workspace, caplog):
    with caplog.at_level(logging.WARNING, logger="tend.usage.ingest"):
        assert_pixel(Client().get(PIXEL, {"sdr_o": "acme", "sdr_a": "x"}))
    assert "not an ingest key" in caplog.text
    assert not UsageEvent.objects.exists()
