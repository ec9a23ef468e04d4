"""Fixtures shared by every app's tests: personas and scope handling."""

import pytest
from django_scopes import scopes_disabled

from tend.test import make_persona, make_workspace
from tend.workspaces.models import Seat


@pytest.fixture(autouse=True)
def _test_code_runs_unscoped():
    """Test bodies set up and inspect data across workspaces; requests scope themselves."""
    with scopes_disabled():
        yield


@pytest.fixture
def workspace(db):
    return make_workspace("Acme CS")


@pytest.fixture
def owner(workspace):
    """An admin of the main workspace."""
    return make_persona(workspace, Seat.ADMIN, "owner@acme.test")


@pytest.fixture
def practitioner(workspace):
    return make_persona(workspace, Seat.PRACTITIONER, "practitioner@acme.test")


@pytest.fixture
def contributor(workspace):
    return make_persona(workspace, Seat.CONTRIBUTOR, "contributor@acme.test")


@pytest.fixture
def viewer(workspace):
    """A teammate with the lesser, read-only seat."""
    return make_persona(workspace, Seat.VIEWER, "viewer@acme.test")


@pytest.fixture
def other_workspace(db):
    return make_workspace("Globex CS")


@pytest.fixture
def outsider(other_workspace):
    """An admin of another workspace: must see nothing of ours."""
    return make_persona(other_workspace, Seat.ADMIN, "outsider@globex.test")
