"""The one write path behind every ingestion endpoint: an item is stored whole or refused whole."""

import pytest
from django.utils import timezone

from tend.accounts.models import Account, AttributeDefinition, AttributeType, EndUser
from tend.lib.dates import to_ms
from tend.test import make_token, token_client
from tend.usage.actions.ingest import ingest
from tend.usage.actions.metrics import metric_label
from tend.usage.actions.settings import update_usage_settings
from tend.usage.ingest.facts import AccountFact, EventFact, Intake, UserFact
from tend.usage.models import IngestRejection, Source, UnmappedTrait, UsageEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(workspace):
    return AttributeDefinition.objects.create(
        workspace=workspace,
        key="plan",
        label="Plan",
        type=AttributeType.ENUM,
        options=["starter", "pro"],
    )


def test_an_item_refused_for_a_bad_trait_creates_nothing_through_its_other_parts(workspace, plan):
    now = to_ms(timezone.now())
    intake = Intake(
        source=Source.TOTANGO,
        received=1,
        accounts=[AccountFact(0, "acme", traits={"Plan": "platinum"})],
        users=[UserFact(0, "ann", account="acme")],
        events=[EventFact(0, "acme", "ann", "Logged in", "", now)],
    )
    report = ingest(workspace, intake, samples={0: {"sdr_o": "acme", "sdr_o.Plan": "platinum"}})
    assert (report.stored, report.rejected) == (0, 1)
    assert report.rejections[0].field == "attributes.plan"
    assert not Account.objects.exists() and not EndUser.objects.exists()
    assert not UsageEvent.objects.exists()
    assert IngestRejection.objects.get().sample == '{"sdr_o":"acme","sdr_o.Plan":"platinum"}'


def test_traits_are_matched_to_attributes_by_key_label_or_spelling(workspace, plan):
    AttributeDefinition.objects.create(
        workspace=workspace,
        key="contract_value",
        label="Contract value",
        type=AttributeType.CURRENCY,
    )
    facts = [
        AccountFact(0, "a1", name="One", traits={"plan": "pro", "contractValue": "1,200"}),
        AccountFact(
            1, "a2", traits={"Plan": "starter", "Contract Value": 50, "favourite colour": "teal"}
        ),
    ]
    ingest(workspace, Intake(source=Source.SEGMENT, received=2, accounts=facts))
    assert dict(Account.objects.values_list("external_id", "attributes")) == {
        "a1": {"plan": "pro", "contract_value": 1200},
        "a2": {"plan": "starter", "contract_value": 50},
    }
    assert Account.objects.get(external_id="a2").name == "a2"  # named by its id when no name came
    unmapped = UnmappedTrait.objects.get(workspace=workspace)
    assert (unmapped.name, unmapped.object_type, unmapped.seen, unmapped.sample) == (
        "favourite colour",
        "account",
        1,
        "teal",
    )


def test_a_null_trait_never_erases_a_stored_value(workspace, plan):
    ingest(
        workspace,
        Intake(
            source=Source.SEGMENT,
            received=1,
            accounts=[AccountFact(0, "a1", traits={"plan": "pro"})],
        ),
    )
    ingest(
        workspace,
        Intake(
            source=Source.SEGMENT,
            received=1,
            accounts=[AccountFact(0, "a1", traits={"plan": None})],
        ),
    )
    assert Account.objects.get().attributes == {"plan": "pro"}


def test_a_refusal_found_while_storing_keeps_the_item_as_json(workspace, owner):
    update_usage_settings(owner.actor, {"create_unknown": False})
    client = token_client(make_token(workspace, ("ingest",)))
    body = b'[{"account_external_id": "nobody", "activity": "Logged in"}]'
    report = client.post("/api/v1/events", data=body, content_type="application/json").json()
    assert report["errors"][0]["reason"] == "unknown_account"
    assert (
        IngestRejection.objects.get().sample
        == '{"account_external_id":"nobody","activity":"Logged in"}'
    )


def test_new_metrics_are_labelled_after_their_key():
    assert metric_label("api_calls") == "Api calls"
    assert metric_label("storage-gb") == "Storage gb"
    assert metric_label("NPS score") == "NPS score"
