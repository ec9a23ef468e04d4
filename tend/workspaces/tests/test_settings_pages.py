"""Settings pages: members, teams and API tokens are for admins only."""

import pytest

from tend.test import PASSWORD
from tend.workspaces import actions
from tend.workspaces.models import ApiToken, Member, Seat, Team, User

PAGES = ["/settings/members/", "/settings/teams/", "/settings/tokens/"]


@pytest.mark.parametrize("url", PAGES)
def test_an_admin_sees_each_settings_page(owner, viewer, url, django_assert_max_num_queries):
    actions.create_team(owner.actor, name="EMEA", members=[owner.member, viewer.member])
    actions.create_api_token(owner.actor, name="Sync", scopes=["read"])
    client = owner.browser
    client.get(url)  # the first request saves the session; count a steady-state one
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert response.status_code == 200
    assert b"Members" in response.content and b"API tokens" in response.content


@pytest.mark.parametrize("persona", ["viewer", "practitioner", "contributor"])
@pytest.mark.parametrize("url", PAGES)
def test_other_seats_get_403(request, persona, url):
    client = request.getfixturevalue(persona).browser
    assert client.get(url).status_code == 403
    assert (
        client.post(
            url, {"name": "x", "email": "x@acme.test", "seat": "admin", "password": PASSWORD}
        ).status_code
        == 403
    )
    assert not Team.objects.exists()
    assert not User.objects.filter(email="x@acme.test").exists()


def test_settings_sends_admins_to_members_and_others_to_their_password(owner, viewer):
    assert owner.browser.get("/settings/")["Location"] == "/settings/members/"
    assert viewer.browser.get("/settings/")["Location"] == "/password/"


def test_an_admin_adds_a_member_who_can_then_log_in(owner):
    from django.test import Client

    response = owner.browser.post(
        "/settings/members/",
        {"email": "new@acme.test", "full_name": "New", "seat": "contributor", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert Member.objects.get(user__email="new@acme.test").seat == Seat.CONTRIBUTOR
    assert (
        Client().post("/login/", {"username": "new@acme.test", "password": PASSWORD}).status_code
        == 302
    )


def test_a_weak_password_is_shown_beside_the_field(owner):
    response = owner.browser.post(
        "/settings/members/", {"email": "new@acme.test", "seat": "viewer", "password": "abc"}
    )
    assert response.status_code == 422
    assert b"too short" in response.content
    assert not User.objects.filter(email="new@acme.test").exists()


def test_an_admin_changes_a_seat_and_deactivates_a_member(owner, viewer):
    owner.browser.post(f"/settings/members/{viewer.member.pk}/seat/", {"seat": "practitioner"})
    viewer.member.refresh_from_db()
    assert viewer.member.seat == Seat.PRACTITIONER
    owner.browser.post(f"/settings/members/{viewer.member.pk}/deactivate/")
    viewer.member.refresh_from_db()
    assert viewer.member.is_active is False
    assert viewer.browser.get("/accounts/").status_code == 403


def test_the_last_admin_is_told_why_they_cannot_leave(owner):
    response = owner.browser.post(f"/settings/members/{owner.member.pk}/deactivate/", follow=True)
    assert b"last active admin" in response.content
    owner.member.refresh_from_db()
    assert owner.member.is_active


def test_an_admin_creates_renames_fills_and_deletes_a_team(owner, viewer):
    response = owner.browser.post("/settings/teams/", {"name": "EMEA"})
    team = Team.objects.get()
    assert response["Location"] == f"/settings/teams/{team.pk}/"
    owner.browser.post(f"/settings/teams/{team.pk}/", {"rename-name": "EMEA enterprise"})
    owner.browser.post(f"/settings/teams/{team.pk}/", {"people-members": [viewer.member.pk]})
    team.refresh_from_db()
    assert team.name == "EMEA enterprise"
    assert list(team.members.all()) == [viewer.member]
    owner.browser.post(f"/settings/teams/{team.pk}/delete/")
    assert not Team.objects.exists()


def test_empty_lists_say_what_to_do_next(owner):
    ApiToken.objects.all().delete()  # personas come with a token
    assert b"No teams yet" in owner.browser.get("/settings/teams/").content
    assert b"No API tokens yet" in owner.browser.get("/settings/tokens/").content


def test_an_outsider_gets_404_on_every_object_url(owner, viewer, outsider):
    team = actions.create_team(owner.actor, name="EMEA")
    token, _ = actions.create_api_token(owner.actor, name="Sync", scopes=["read"])
    urls = [
        f"/settings/members/{viewer.member.pk}/seat/",
        f"/settings/members/{viewer.member.pk}/deactivate/",
        f"/settings/members/{viewer.member.pk}/reactivate/",
        f"/settings/teams/{team.pk}/",
        f"/settings/teams/{team.pk}/delete/",
        f"/settings/tokens/{token.pk}/created/",
        f"/settings/tokens/{token.pk}/revoke/",
    ]
    for url in urls:
        assert (
            outsider.browser.post(url, {"seat": "admin", "rename-name": "Hacked"}).status_code
            == 404
        ), url
    viewer.member.refresh_from_db()
    team.refresh_from_db()
    token.refresh_from_db()
    assert viewer.member.seat == Seat.VIEWER and viewer.member.is_active
    assert team.name == "EMEA" and token.revoked_at is None
    assert b"viewer@acme.test" not in outsider.browser.get("/settings/members/").content


def test_user_input_is_escaped(owner):
    actions.create_team(owner.actor, name="<script>x</script>")
    actions.create_api_token(owner.actor, name="<img src=x>", scopes=["read"])
    assert b"<script>x</script>" not in owner.browser.get("/settings/teams/").content
    assert b"<img src=x>" not in owner.browser.get("/settings/tokens/").content


def test_members_list_is_paginated(owner, workspace):
    from tend.test import make_member

    for n in range(55):
        make_member(workspace, Seat.VIEWER, f"m{n:02}@acme.test")
    page = owner.browser.get("/settings/members/").content.decode()
    assert "1–50 of 56" in page
    assert "Page 1 of 2" in page
    assert "Page 2 of 2" in owner.browser.get("/settings/members/?page=2").content.decode()


def test_settings_forms_need_the_csrf_token(owner):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.member.user)
    assert client.post("/settings/tokens/", {"name": "x", "scopes": ["read"]}).status_code == 403
    assert not ApiToken.objects.filter(name="x").exists()
