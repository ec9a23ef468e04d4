import pytest

from tend.accounts.actions.accounts import create_account
from tend.hub.export_schedules import actions
from tend.hub.sftp.tests.conftest import _sftp_settings, sftp_server  # noqa: F401
from tend.hub.sftp.tests.server import PASSWORD, USER

ACCOUNTS = 1200


def schedule_data(server, **overrides) -> dict:
    data = {
        "name": "Nightly accounts",
        "dataset": "accounts",
        "format": "csv",
        "host": "127.0.0.1",
        "port": server.port,
        "username": USER,
        "auth_method": "password",
        "password": PASSWORD,
        "folder": "/warehouse",
        "file_name": "{dataset}-{date}.{ext}",
        "schedule": "daily",
        "time_of_day": "06:30",
        "every_hours": 24,
        "enabled": True,
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_schedule(owner, sftp_server):  # noqa: F811
    def _make(**overrides):
        return actions.create_schedule(owner.actor, schedule_data(sftp_server, **overrides))

    return _make


@pytest.fixture
def book(owner):
    """Accounts enough for several chunks of CSV and a few Parquet pages, one with a
    formula-looking name."""
    from tend.accounts.models import Account

    create_account(owner.actor, {"external_id": "a-0", "name": "=HYPERLINK(1)"})
    Account.objects.bulk_create(
        Account(workspace=owner.workspace, external_id=f"a-{i}", name=f"Account {i} " + "x" * 60)
        for i in range(1, ACCOUNTS)
    )
    return owner.workspace
