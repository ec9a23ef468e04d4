import pytest

from tend.hub.models import SavedMapping
from tend.hub.sftp import actions
from tend.hub.sftp.tests.server import PASSWORD, USER, SftpTestServer
from tend.hub.tests.conftest import import_dir  # noqa: F401 - uploads go to this test's folder


@pytest.fixture(autouse=True)
def _sftp_settings(settings):
    # The test server listens on loopback, which the outgoing rules refuse unless allowed.
    settings.TEND_OUTGOING_ALLOW = "127.0.0.1"
    settings.TEND_SFTP_SETTLE_SECONDS = 0


@pytest.fixture
def sftp_server(tmp_path):
    root = tmp_path / "sftp-root"
    (root / "outgoing").mkdir(parents=True)
    server = SftpTestServer(root).start()
    yield server
    server.stop()


@pytest.fixture
def accounts_mapping(workspace):
    return SavedMapping.objects.create(
        workspace=workspace,
        object="account",
        name="CRM accounts",
        columns={"external_id": "external_id", "name": "name"},
    )


def source_data(server, **overrides) -> dict:
    data = {
        "name": "Nightly CRM drop",
        "host": "127.0.0.1",
        "port": server.port,
        "username": USER,
        "auth_method": "password",
        "password": PASSWORD,
        "folder": "/outgoing",
        "pattern": "*.csv",
        "object": "account",
        "mapping": "CRM accounts",
        "source_name": "CRM",
        "after_import": "archive",
        "archive_folder": "/archive",
        "every_minutes": 15,
        "enabled": True,
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_source(owner, sftp_server, accounts_mapping):
    def _make(**overrides):
        return actions.create_source(owner.actor, source_data(sftp_server, **overrides))

    return _make
