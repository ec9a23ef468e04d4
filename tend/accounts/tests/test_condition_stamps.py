"""The triggers' stamps (tend/accounts/stamps.py): every write to an account stamps it in
the same transaction, and a deleted workspace takes its stamps and version with it (they
have no foreign key; deleting its accounts stamps each one)."""

import pytest

from tend.accounts.actions.accounts import create_account, update_account
from tend.accounts.models import Account, ConditionStamp, ConditionVersion
from tend.accounts.stamps import ACCOUNT
from tend.workspaces.models import Workspace

pytestmark = pytest.mark.django_db


def test_writes_are_stamped_and_a_deleted_workspace_takes_its_stamps(owner, outsider):
    acme = create_account(owner.actor, {"external_id": "acme", "name": "Acme"})
    theirs = create_account(outsider.actor, {"external_id": "x", "name": "X"})
    stamped = ConditionStamp.objects.filter(account_id=acme.pk, source=ACCOUNT)
    assert stamped.get().workspace_id == owner.workspace.pk
    # Each write stamps again (the version itself may not move inside one PostgreSQL
    # transaction: it is the transaction's id).
    stamped.delete()
    update_account(owner.actor, acme, {"name": "Acme Inc"})
    assert stamped.exists()
    stamped.delete()
    Account.objects.filter(pk=acme.pk).update(name="raw SQL")  # no action involved
    assert stamped.exists()

    Workspace.objects.filter(pk=owner.workspace.pk).delete()
    assert not ConditionStamp.objects.filter(workspace_id=owner.workspace.pk).exists()
    assert not ConditionVersion.objects.filter(workspace_id=owner.workspace.pk).exists()
    # Another workspace's stamps stay.
    assert ConditionStamp.objects.filter(account_id=theirs.pk, source=ACCOUNT).exists()
