"""A small world for the tasks tests: two accounts, one of them assigned to the contributor."""

import datetime

import pytest

from tend.accounts.models import Account, Assignment, AssignmentRole
from tend.work.actions import create_task
from tend.work.queries import local_today


@pytest.fixture
def role(workspace):
    return AssignmentRole.objects.create(workspace=workspace, key="success_manager", name="CSM")


@pytest.fixture
def acme(workspace):
    return Account.objects.create(workspace=workspace, external_id="acme", name="Acme Corp")


@pytest.fixture
def globex(workspace):
    return Account.objects.create(workspace=workspace, external_id="globex", name="Globex")


@pytest.fixture
def contributors_account(workspace, contributor, role):
    """An account assigned to the contributor: they may change its tasks."""
    account = Account.objects.create(workspace=workspace, external_id="sam", name="Sam's Co")
    Assignment.objects.create(
        workspace=workspace, account=account, role=role, member=contributor.member
    )
    return account


@pytest.fixture
def today(workspace):
    return local_today(workspace)


@pytest.fixture
def make_task(owner, acme, today):
    def make(account=None, by=None, days=0, **data):
        data.setdefault("title", "Call the champion")
        data.setdefault("due_date", today + datetime.timedelta(days=days))
        return create_task((by or owner).actor, account or acme, data)

    return make
