"""The notification centre: notify, the bell, the list, mark read, and the API; a member
sees only their own, another workspace's ids are 404."""

import pytest
from django.test import Client

from tend.accounts.actions.accounts import create_account
from tend.lib.errors import InvalidInput
from tend.notifications.actions import notify
from tend.notifications.models import Notification
from tend.workspaces.models import ApiToken

pytestmark = pytest.mark.django_db


def note(member, n=1, **fields):
    return notify(member, kind="alert", title=fields.pop("title", f"Alert {n}"), key=f"k{n}", **fields)


def test_the_same_key_notifies_once(owner):
    assert note(owner.member) is not None
    assert note(owner.member) is None
    assert Notification.objects.count() == 1


def test_an_account_of_another_workspace_is_refused(owner, outsider):
    theirs = create_account(outsider.actor, {"external_id": "x", "name": "X"})
    with pytest.raises(InvalidInput) as raised:
        note(owner.member, account=theirs)
    assert raised.value.field == "account"


def test_the_bell_shows_the_unread_count(owner):
    for n in range(3):
        note(owner.member, n)
    Notification.objects.filter(key="k0").update(read_at="2026-01-01T00:00Z")
    html = owner.browser.get("/notifications/").content.decode()
    assert 'class="bell-count" hx-get="/notifications/bell/" hx-trigger="every 60s" hx-swap="outerHTML">2</span>' in html
    # Refreshed every minute on its own: an alert shows up on a page left open.
    note(owner.member, 7)
    assert owner.browser.get("/notifications/bell/").content.decode().strip().endswith(">3</span>")


def test_the_list_shows_only_my_notifications_and_filters_unread(owner, practitioner):
    note(owner.member, 1, title="Mine, read")
    note(owner.member, 2, title="Mine, unread")
    note(practitioner.member, 3, title="Someone else's")
    Notification.objects.filter(key="k1").update(read_at="2026-01-01T00:00Z")
    html = owner.browser.get("/notifications/").content.decode()
    assert "Mine, read" in html and "Mine, unread" in html and "Someone else" not in html
    html = owner.browser.get("/notifications/?show=unread").content.decode()
    assert "Mine, unread" in html and "Mine, read" not in html
    response = owner.browser.get("/notifications/?show=bogus")
    assert response.status_code == 400 and b"show:" in response.content


def test_the_list_is_paginated_with_a_fixed_number_of_queries(owner, acme_factory, django_assert_max_num_queries):
    for n in range(40):
        note(owner.member, n, account=acme_factory(n % 3))
    client = owner.browser  # logged in before counting
    with django_assert_max_num_queries(10):
        response = client.get("/notifications/")
    assert response.content.decode().count('class="notification unread"') == 30
    assert "Page 1 of 2" in response.content.decode()


@pytest.fixture
def acme_factory(owner):
    made = {}

    def make(n):
        if n not in made:
            made[n] = create_account(owner.actor, {"external_id": f"a{n}", "name": f"A{n}"})
        return made[n]

    return make


def test_mark_read_with_htmx_swaps_the_row_and_the_bell(owner):
    n = note(owner.member, 1)
    note(owner.member, 2)
    response = owner.browser.post(f"/notifications/{n.pk}/read/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="notification-{n.pk}" class="notification"' in html
    assert 'hx-swap="outerHTML" hx-swap-oob="true">1</span>' in html
    assert Notification.objects.get(pk=n.pk).read_at is not None


def test_mark_all_read(owner, practitioner):
    for k in range(3):
        note(owner.member, k)
    theirs = note(practitioner.member, 9)
    assert owner.browser.post("/notifications/read-all/").status_code == 302
    assert not Notification.objects.filter(member=owner.member, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_opening_marks_read_and_goes_to_the_cause(owner):
    n = note(owner.member, 1, url="/accounts/5/")
    response = owner.browser.get(f"/notifications/{n.pk}/")
    assert response.status_code == 302 and response["Location"] == "/accounts/5/"
    assert Notification.objects.get(pk=n.pk).read_at is not None
    evil = note(owner.member, 2, url="https://evil.example/")
    assert owner.browser.get(f"/notifications/{evil.pk}/")["Location"] == "/notifications/"


@pytest.mark.parametrize("how", ["open", "read"])
def test_another_members_or_workspaces_notification_is_404(owner, practitioner, outsider, how):
    for other in (practitioner, outsider):
        n = note(other.member, 1)
        url = f"/notifications/{n.pk}/" + ("read/" if how == "read" else "")
        call = owner.browser.post if how == "read" else owner.browser.get
        assert call(url).status_code == 404
        assert Notification.objects.get(pk=n.pk).read_at is None
        n.delete()


def test_mark_read_needs_csrf(owner):
    n = note(owner.member, 1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.member.user)
    assert client.post(f"/notifications/{n.pk}/read/").status_code == 403


# --- API ------------------------------------------------------------------------------------


@pytest.fixture
def my_token(owner):
    ApiToken.objects.filter(workspace=owner.workspace).update(created_by=owner.member)
    return owner.api


def test_the_api_lists_my_notifications_newest_first_with_a_cursor(owner, practitioner, my_token, django_assert_max_num_queries):
    for n in range(5):
        note(owner.member, n)
    note(practitioner.member, 9)
    my_token.get("/api/v1/notifications?limit=1")
    with django_assert_max_num_queries(6):
        first = my_token.get("/api/v1/notifications?limit=3").json()
    assert [i["title"] for i in first["items"]] == ["Alert 4", "Alert 3", "Alert 2"]
    assert first["unread"] == 5
    rest = my_token.get(f"/api/v1/notifications?limit=3&cursor={first['next_cursor']}").json()
    assert [i["title"] for i in rest["items"]] == ["Alert 1", "Alert 0"] and rest["next_cursor"] is None


def test_the_api_marks_read_and_filters_unread(owner, my_token):
    a, b = note(owner.member, 1), note(owner.member, 2)
    response = my_token.post(f"/api/v1/notifications/{a.pk}/read")
    assert response.status_code == 200 and response.json()["read_at"]
    assert [i["id"] for i in my_token.get("/api/v1/notifications?unread=true").json()["items"]] == [b.pk]
    assert my_token.post("/api/v1/notifications/read-all").json() == {"marked": 1}


def test_the_api_refuses_bad_input_naming_the_field(owner, my_token):
    response = my_token.get("/api/v1/notifications?cursor=garbage")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "cursor"
    response = my_token.get("/api/v1/notifications?limit=0")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "limit"


def test_the_api_hides_other_members_and_workspaces(owner, practitioner, outsider, my_token):
    for other in (practitioner, outsider):
        n = note(other.member, 1)
        assert my_token.post(f"/api/v1/notifications/{n.pk}/read").status_code == 404
        n.delete()
    ApiToken.objects.filter(workspace=outsider.workspace).update(created_by=outsider.member)
    assert outsider.api.get("/api/v1/notifications").json()["items"] == []


def test_a_token_no_member_created_has_no_notifications(owner):
    response = owner.api.get("/api/v1/notifications")
    assert response.status_code == 403 and "no member" in response.json()["detail"]
