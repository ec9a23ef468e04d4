"""Creating workspaces and members, seats, the last admin, teams."""

import pytest
from django.core.exceptions import PermissionDenied

from tend.lib.errors import InvalidInput
from tend.test import PASSWORD
from tend.workspaces import actions
from tend.workspaces.models import Member, Seat, Team, User, Workspace


def test_a_new_workspace_gets_an_admin_owner(db):
    workspace, owner = actions.create_workspace(
        "Initech Success",
        owner_email="Boss@Initech.test",
        owner_password=PASSWORD,
        owner_name="Bill",
    )
    assert workspace.slug == "initech-success"
    assert owner.seat == Seat.ADMIN
    assert owner.user.email == "boss@initech.test"
    assert owner.user.full_name == "Bill"
    assert owner.user.check_password(PASSWORD)


def test_slugs_are_made_unique(db):
    first, _ = actions.create_workspace("Acme", owner_email="a@acme.test", owner_password=PASSWORD)
    second, _ = actions.create_workspace("Acme", owner_email="b@acme.test", owner_password=PASSWORD)
    assert (first.slug, second.slug) == ("acme", "acme-2")


def test_a_taken_or_malformed_slug_is_refused(db):
    actions.create_workspace(
        "Acme", owner_email="a@acme.test", owner_password=PASSWORD, slug="acme"
    )
    for slug in ("acme", "Not A Slug"):
        with pytest.raises(InvalidInput) as error:
            actions.create_workspace(
                "Acme", owner_email="b@acme.test", owner_password=PASSWORD, slug=slug
            )
        assert error.value.field == "slug"
    assert Workspace.objects.count() == 1


def test_a_weak_owner_password_is_refused_and_nothing_is_created(db):
    with pytest.raises(InvalidInput) as error:
        actions.create_workspace("Acme", owner_email="a@acme.test", owner_password="123")
    assert error.value.field == "password"
    assert "too short" in error.value.message
    assert not Workspace.objects.exists() and not User.objects.exists()


def test_an_admin_creates_a_member_who_can_log_in(owner, workspace):
    member = actions.create_member(
        owner.actor,
        email="new@acme.test",
        full_name="New Person",
        password=PASSWORD,
        seat=Seat.VIEWER,
    )
    assert member.workspace == workspace and member.seat == Seat.VIEWER
    assert member.user.check_password(PASSWORD)


def test_an_existing_login_joins_without_its_password_changing(owner, outsider):
    member = actions.create_member(
        owner.actor, email="outsider@globex.test", password="ignored-Pa55word!", seat="viewer"
    )
    member.user.refresh_from_db()
    assert member.user.check_password(PASSWORD)
    assert Member.objects.filter(user=member.user).count() == 2


def test_creating_a_member_twice_is_refused(owner, viewer):
    with pytest.raises(InvalidInput) as error:
        actions.create_member(owner.actor, email="viewer@acme.test", seat="viewer")
    assert error.value.field == "email"
    assert "already a member" in error.value.message


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD, "seat": "viewer"}, "email"),
        ({"email": "x@acme.test", "password": PASSWORD, "seat": "king"}, "seat"),
        ({"email": "x@acme.test", "password": "password", "seat": "viewer"}, "password"),
        ({"email": "x@acme.test", "password": None, "seat": "viewer"}, "password"),
    ],
)
def test_bad_member_input_names_the_field(owner, fields, field):
    with pytest.raises(InvalidInput) as error:
        actions.create_member(owner.actor, **fields)
    assert error.value.field == field


def test_only_admins_manage_members(practitioner):
    with pytest.raises(PermissionDenied):
        actions.create_member(
            practitioner.actor, email="x@acme.test", password=PASSWORD, seat="viewer"
        )


def test_the_last_active_admin_cannot_be_deactivated_or_demoted(owner, viewer):
    with pytest.raises(InvalidInput) as error:
        actions.deactivate_member(owner.actor, owner.member)
    assert "last active admin" in error.value.message
    with pytest.raises(InvalidInput):
        actions.change_seat(owner.actor, owner.member, Seat.VIEWER)
    owner.member.refresh_from_db()
    assert owner.member.is_active and owner.member.seat == Seat.ADMIN

    actions.change_seat(owner.actor, viewer.member, Seat.ADMIN)
    actions.deactivate_member(owner.actor, owner.member)
    owner.member.refresh_from_db()
    assert owner.member.is_active is False


def test_teams_are_created_renamed_filled_and_deleted(owner, viewer, outsider):
    team = actions.create_team(owner.actor, name="EMEA", members=[owner.member])
    actions.rename_team(owner.actor, team, "EMEA enterprise")
    actions.set_team_members(owner.actor, team, [viewer.member.pk, owner.member.pk])
    assert set(team.members.all()) == {owner.member, viewer.member}
    with pytest.raises(InvalidInput) as error:
        actions.set_team_members(owner.actor, team, [outsider.member.pk])
    assert error.value.field == "members"
    with pytest.raises(InvalidInput):
        actions.create_team(owner.actor, name="emea enterprise")
    actions.delete_team(owner.actor, team)
    assert not Team.objects.exists()
