"""A new workspace starts with the usual journey stages and assignment roles."""

from tend.accounts.models import AssignmentRole, Stage
from tend.test import PASSWORD
from tend.workspaces import actions


def test_a_new_workspace_gets_the_default_stages_and_roles(db):
    workspace, _ = actions.create_workspace(
        "Initech", owner_email="boss@initech.test", owner_password=PASSWORD
    )
    stages = list(
        Stage.objects.filter(workspace=workspace)
        .order_by("position")
        .values_list("name", flat=True)
    )
    assert stages == ["Onboarding", "Adoption", "Value realisation", "Renewal", "Advocate"]
    roles = list(
        AssignmentRole.objects.filter(workspace=workspace)
        .order_by("position")
        .values_list("key", "name")
    )
    assert roles == [("success_manager", "Success Manager"), ("sales_manager", "Sales Manager")]


def test_each_workspace_gets_its_own_defaults(db):
    first, _ = actions.create_workspace("One", owner_email="a@one.test", owner_password=PASSWORD)
    second, _ = actions.create_workspace("Two", owner_email="b@two.test", owner_password=PASSWORD)
    assert Stage.objects.filter(workspace=first).count() == 5
    assert Stage.objects.filter(workspace=second).count() == 5
    assert AssignmentRole.objects.count() == 4
