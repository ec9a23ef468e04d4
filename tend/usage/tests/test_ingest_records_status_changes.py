"""A status sent as an account trait changes the account through the accounts bulk upsert,
which records the change in the status history like any other path."""

import pytest

from tend.accounts.actions.accounts import create_account
from tend.accounts.models import Account, StatusChange
from tend.usage.actions.ingest import ingest
from tend.usage.ingest.facts import AccountFact, Intake
from tend.usage.models import Source

pytestmark = pytest.mark.django_db


def test_a_status_trait_records_a_status_change_from_ingestion(owner, workspace):
    create_account(owner.actor, {"external_id": "acme", "name": "Acme"})
    intake = Intake(source=Source.API, received=2)
    intake.accounts = [AccountFact(0, "acme", traits={"status": "Paying"})]
    ingest(workspace, intake)
    again = Intake(source=Source.API, received=1)
    again.accounts = [AccountFact(0, "acme", traits={"status": "paying"})]
    ingest(workspace, again)
    account = Account.objects.get(external_id="acme")
    assert account.status == "paying"
    assert list(
        StatusChange.objects.filter(account=account).values_list(
            "from_status", "to_status", "source", "changed_by"
        )
    ) == [("trial", "paying", "ingest", None)]
