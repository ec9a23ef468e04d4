"""Journey stages, assignment roles and tags: ordering, uniqueness, what deleting leaves."""

import pytest
from django.core.exceptions import PermissionDenied

from tend.accounts.actions import definitions as actions
from tend.accounts.models import Account, AccountTag, Assignment, AssignmentRole, Stage, Tag
from tend.lib.errors import InvalidInput


def names(workspace):
    return list(
        Stage.objects.filter(workspace=workspace)
        .order_by("position")
        .values_list("name", flat=True)
    )


def test_new_stages_go_at_the_end_with_a_colour(owner, workspace):
    actions.create_stage(owner.actor, {"name": "Onboarding"})
    stage = actions.create_stage(owner.actor, {"name": "Adoption", "description": "Using it daily"})
    assert names(workspace) == ["Onboarding", "Adoption"]
    assert stage.color.startswith("#") and len(stage.color) == 7


def test_stage_names_are_unique_ignoring_case(owner):
    actions.create_stage(owner.actor, {"name": "Onboarding"})
    with pytest.raises(InvalidInput) as error:
        actions.create_stage(owner.actor, {"name": "onboarding"})
    assert error.value.field == "name"
    assert "already exists" in error.value.message


def test_a_stage_colour_must_be_a_hex_colour(owner):
    with pytest.raises(InvalidInput) as error:
        actions.create_stage(owner.actor, {"name": "Adoption", "color": "red"})
    assert error.value.field == "color"


def test_moving_a_stage_renumbers_the_others(owner, workspace):
    for name in ("A", "B", "C", "D"):
        actions.create_stage(owner.actor, {"name": name})
    d = Stage.objects.get(name="D")
    actions.move_stage(owner.actor, d, 1)
    assert names(workspace) == ["A", "D", "B", "C"]
    assert list(Stage.objects.order_by("position").values_list("position", flat=True)) == [
        0,
        1,
        2,
        3,
    ]
    with pytest.raises(InvalidInput) as error:
        actions.move_stage(owner.actor, d, 4)
    assert error.value.field == "position"


def test_deleting_a_stage_leaves_its_accounts_without_a_stage(owner, workspace):
    first = actions.create_stage(owner.actor, {"name": "A"})
    actions.create_stage(owner.actor, {"name": "B"})
    account = Account.objects.create(workspace=workspace, external_id="a", name="A", stage=first)
    assert actions.delete_stage(owner.actor, first) == 1
    account.refresh_from_db()
    assert account.stage is None and account.stage_entered_at is None
    assert list(Stage.objects.values_list("name", "position")) == [("B", 0)]


def test_stages_and_roles_are_for_admins_only(practitioner):
    with pytest.raises(PermissionDenied):
        actions.create_stage(practitioner.actor, {"name": "A"})
    with pytest.raises(PermissionDenied):
        actions.create_role(practitioner.actor, {"key": "csm", "name": "CSM"})


def test_role_keys_and_names_are_unique(owner):
    actions.create_role(owner.actor, {"key": "csm", "name": "CSM"})
    with pytest.raises(InvalidInput) as error:
        actions.create_role(owner.actor, {"key": "csm", "name": "Other"})
    assert error.value.field == "key"
    with pytest.raises(InvalidInput) as error:
        actions.create_role(owner.actor, {"key": "other", "name": "csm"})
    assert error.value.field == "name"
    with pytest.raises(InvalidInput) as error:
        actions.create_role(owner.actor, {"key": "Bad Key", "name": "Bad"})
    assert error.value.field == "key"


def test_deleting_a_role_removes_its_assignments(owner, workspace):
    role = actions.create_role(owner.actor, {"key": "csm", "name": "CSM"})
    account = Account.objects.create(workspace=workspace, external_id="a", name="A")
    Assignment.objects.create(workspace=workspace, account=account, role=role, member=owner.member)
    actions.delete_role(owner.actor, role)
    assert not Assignment.objects.exists()
    assert not AssignmentRole.objects.exists()


def test_writers_may_create_rename_and_delete_tags(practitioner, workspace):
    tag = actions.create_tag(practitioner.actor, {"name": "VIP"})
    account = Account.objects.create(workspace=workspace, external_id="a", name="A")
    AccountTag.objects.create(account=account, tag=tag)
    actions.rename_tag(practitioner.actor, tag, "Strategic")
    assert list(account.tags.values_list("name", flat=True)) == ["Strategic"]
    actions.delete_tag(practitioner.actor, tag)
    assert not Tag.objects.exists()
    assert Account.objects.filter(pk=account.pk).exists()


def test_viewers_cannot_create_tags(viewer):
    with pytest.raises(PermissionDenied):
        actions.create_tag(viewer.actor, {"name": "VIP"})


def test_tag_names_are_unique(owner):
    actions.create_tag(owner.actor, {"name": "VIP"})
    with pytest.raises(InvalidInput) as error:
        actions.create_tag(owner.actor, {"name": "vip"})
    assert error.value.field == "name"
