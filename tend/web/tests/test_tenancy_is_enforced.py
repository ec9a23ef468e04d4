"""Tenant data cannot be queried without a workspace scope, and a scope hides other tenants."""

import pytest
from django.apps import apps
from django_scopes import scope
from django_scopes.exceptions import ScopeError
from django_scopes.state import state

from tend.accounts.models import Account


def tenant_models():
    """Every model with a ``workspace`` foreign key, except the job queue (claimed across tenants)."""
    found = []
    for model in apps.get_models():
        if model._meta.app_label == "jobs":
            continue
        if any(f.name == "workspace" and f.is_relation for f in model._meta.fields):
            found.append(model)
    return found


def test_there_are_tenant_models_to_check():
    assert {m.__name__ for m in tenant_models()} >= {
        "Account",
        "EndUser",
        "Contact",
        "Member",
        "ApiToken",
        "Task",
        "TaskComment",
    }


@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m.__name__)
def test_a_query_without_a_scope_raises(model):
    token = state.set({})  # leave the tests' own unscoped mode: behave like production code
    try:
        with pytest.raises(ScopeError):
            list(model.objects.all())
    finally:
        state.reset(token)


def test_a_scope_shows_only_its_own_workspace(owner, outsider):
    Account.objects.create(workspace=owner.workspace, external_id="a-1", name="Ours")
    Account.objects.create(workspace=outsider.workspace, external_id="a-1", name="Theirs")
    with scope(workspace=owner.workspace.id):
        assert [a.name for a in Account.objects.all()] == ["Ours"]
