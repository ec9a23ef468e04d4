"""Alerts tests: accounts to follow, a rule maker, rank changes made the way health makes
them (scoring), and the outbox's real SMTP server."""

import pytest

from tend.accounts.actions.accounts import create_account
from tend.alerts.actions import create_rule
from tend.outbox.tests.conftest import smtp_server  # noqa: F401  (a fixture)


@pytest.fixture
def acme(owner):
    return create_account(owner.actor, {"external_id": "acme", "name": "Acme Corp"})


@pytest.fixture
def make_rule(owner):
    def _make(**fields):
        data = {
            "name": fields.pop("name", "Health turned Poor"),
            "trigger": fields.pop("trigger", {"kind": "health_changed", "config": {"to_rank": "poor"}}),
            **fields,
        }
        return create_rule(owner.actor, data)

    return _make
