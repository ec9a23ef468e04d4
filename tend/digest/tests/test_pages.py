"""The preview, settings and unsubscribe pages; Home; who may see what."""

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from tend.alerts.actions import follow
from tend.digest.content import setting_of
from tend.digest.models import DigestSetting
from tend.digest.tests.conftest import account, moved, segment, task
from tend.digest.tokens import SALT, unsubscribe_token
from tend.test import make_member
from tend.work.queries import local_today

pytestmark = pytest.mark.django_db


def test_the_preview_shows_todays_digest_for_me(world, practitioner):
    response = practitioner.browser.get(reverse("digest:preview"))
    assert response.status_code == 200
    page = response.content.decode()
    # The world's changes are at fixed past dates; the tasks are relative to the real today.
    assert "My daily digest" in page
    assert "Someone else&#x27;s call" not in page and "Someone else's call" not in page


def test_the_preview_shows_only_my_own(world, outsider):
    page = outsider.browser.get(reverse("digest:preview")).content.decode()
    assert "Acme Corp" not in page and "Send the kickoff deck" not in page and "At risk" not in page


def test_the_preview_lists_my_tasks_and_changes_today(workspace, practitioner):
    me = practitioner.member
    acme = account(workspace, "acme", "Acme Corp", rank="poor")
    follow(me, account=acme)
    task(me, acme, "Call Acme today", local_today(workspace))
    seg = segment(workspace, "Big ones")
    follow(me, segment=seg)
    from django.utils import timezone

    moved(seg, acme, "entered", timezone.now())
    page = practitioner.browser.get(reverse("digest:preview")).content.decode()
    assert "Call Acme today" in page and "Big ones" in page and "1 entered" in page


def test_anonymous_visitors_are_sent_to_log_in(world):
    for name in ("digest:preview", "digest:settings", "web:home"):
        response = Client().get(reverse(name))
        assert response.status_code == 302 and "/login" in response["Location"]


def test_settings_turn_the_digest_on_and_pick_the_hour(world, viewer):
    url = reverse("digest:settings")
    assert viewer.browser.get(url).status_code == 200
    response = viewer.browser.post(url, {"enabled": "on", "hour": "7", "time_zone": "Europe/Paris"})
    assert response.status_code == 302
    setting = DigestSetting.objects.get(member=viewer.member)
    assert (setting.enabled, setting.hour, setting.time_zone) == (True, 7, "Europe/Paris")
    viewer.browser.post(url, {"hour": "7", "time_zone": ""})
    assert DigestSetting.objects.get(member=viewer.member).enabled is False


@pytest.mark.parametrize(
    "data, field",
    [
        ({"hour": "24"}, "hour"),
        ({"hour": "soon"}, "hour"),
        ({"hour": "8", "time_zone": "Mars/Olympus"}, "time_zone"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(world, practitioner, data, field):
    response = practitioner.browser.post(reverse("digest:settings"), {"enabled": "on", **data})
    assert response.status_code == 422
    assert f"{field}:" in response.content.decode()
    assert not DigestSetting.objects.filter(member=practitioner.member).exists()


def test_the_unsubscribe_link_works_without_logging_in(world):
    me = world["me"]
    url = reverse("digest:unsubscribe", args=[unsubscribe_token(me)])
    client = Client(enforce_csrf_checks=True)
    page = client.get(url)
    assert page.status_code == 200 and "practitioner@acme.test" in page.content.decode()
    assert setting_of(me).enabled is True  # a GET (a link scanner) changes nothing
    done = client.post(url)
    assert done.status_code == 200 and "Unsubscribed" in done.content.decode()
    me.refresh_from_db()
    assert DigestSetting.objects.get(member=me).enabled is False


def test_the_unsubscribe_link_cannot_be_used_for_another_member(world, workspace, outsider):
    me = world["me"]
    other = make_member(workspace, "practitioner", "other@acme.test")
    token = unsubscribe_token(me)
    # The payload edited to name the other member (signature kept), a token signed with
    # another salt, and a truncated one: all refused, nothing changed.
    payload, _, sig = token.partition(":")
    assert forged_payload_differs(payload, other)
    forged_payload = (
        signing.Signer(salt=SALT)
        .sign_object({"m": other.pk, "w": other.workspace_id})
        .partition(":")[0]
    )
    wrong_salt = signing.Signer(salt="something else").sign_object(
        {"m": other.pk, "w": other.workspace_id}
    )
    for bad in (f"{forged_payload}:{sig}", wrong_salt, token[:-3], "nonsense"):
        response = Client().post(reverse("digest:unsubscribe", args=[bad]))
        assert response.status_code == 400, bad
    assert not DigestSetting.objects.exists()
    # My genuine token turns off mine only; the outsider's turns off theirs only.
    Client().post(reverse("digest:unsubscribe", args=[token]))
    Client().post(reverse("digest:unsubscribe", args=[unsubscribe_token(outsider.member)]))
    assert set(DigestSetting.objects.filter(enabled=False).values_list("member_id", flat=True)) == {
        me.pk,
        outsider.member.pk,
    }
    assert setting_of(other).enabled is True


def forged_payload_differs(payload, other) -> bool:
    return (
        signing.Signer(salt=SALT)
        .sign_object({"m": other.pk, "w": other.workspace_id})
        .partition(":")[0]
        != payload
    )


def test_a_removed_members_link_answers_404(world):
    me = world["me"]
    token = unsubscribe_token(me)
    me.delete()
    assert Client().post(reverse("digest:unsubscribe", args=[token])).status_code == 404


def test_home_is_the_landing_page_and_shows_my_day(workspace, practitioner):
    me = practitioner.member
    acme = account(workspace, "acme", "Acme Corp", rank="poor")
    follow(me, account=acme)
    task(me, acme, "Call Acme today", local_today(workspace))
    from tend.notifications.actions import notify

    notify(me, kind="alert", title="Health turned Poor: Acme Corp", key="k1", account=acme, url="/")
    response = practitioner.browser.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "Call Acme today" in page
        and "Acme Corp" in page
        and "Health turned Poor: Acme Corp" in page
    )
    assert 'class="nav-item active">Home' in page.replace("\n", "")


def test_home_shows_nothing_of_another_workspace(world, outsider):
    page = outsider.browser.get("/").content.decode()
    assert "Acme Corp" not in page and "Call about the renewal" not in page


def _grow(workspace, me, n):
    from django.utils import timezone

    from tend.health.models import HealthChange
    from tend.notifications.actions import notify

    seg = segment(workspace, f"Seg {n}")
    follow(me, segment=seg)
    for i in range(n):
        acc = account(workspace, f"grow-{n}-{i}", f"Grown {n}-{i}", rank="average")
        follow(me, account=acc)
        HealthChange.objects.create(
            workspace=workspace,
            account=acc,
            from_rank="good",
            to_rank="average",
            changed_at=timezone.now(),
        )
        moved(seg, acc, "entered", timezone.now())
        task(me, acc, f"Task {n}-{i}", local_today(workspace))
        notify(me, kind="alert", title=f"N {n}-{i}", key=f"grow-{n}-{i}", account=acc, url="/")


@pytest.mark.parametrize("url", ["/", "/digest/preview/"])
def test_home_and_preview_queries_do_not_grow_with_what_i_follow(
    workspace, practitioner, url, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    me = practitioner.member
    _grow(workspace, me, 2)
    client = practitioner.browser
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _grow(workspace, me, 15)
    with django_assert_max_num_queries(len(small)):
        assert client.get(url).status_code == 200
    # session, member, bell, follows, changes (health, stage, status, usage stops, segments),
    # tasks, notifications …
    assert len(small) <= 17, len(small)


def _tokens_of(*personas):
    """Each persona's API token as created by them: a token speaks for its creator."""
    from tend.workspaces.models import ApiToken, hash_token

    for persona in personas:
        ApiToken.objects.filter(token_hash=hash_token(persona.token)).update(
            created_by=persona.member
        )


def test_the_api_reads_and_changes_my_digest_settings(world, practitioner, outsider):
    me = world["me"]
    _tokens_of(practitioner, outsider)
    got = practitioner.api.get("/api/v1/digest/settings").json()
    assert got == {"enabled": True, "hour": 8, "time_zone": "", "effective_time_zone": "UTC"}
    response = practitioner.api.put(
        "/api/v1/digest/settings", {"enabled": True, "hour": 30}, content_type="application/json"
    )
    assert response.status_code == 422 and "hour" in response.content.decode()
    response = practitioner.api.put(
        "/api/v1/digest/settings",
        {"enabled": False, "hour": 6, "time_zone": "Asia/Tokyo"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["effective_time_zone"] == "Asia/Tokyo"
    setting = DigestSetting.objects.get(member=me)
    assert (setting.enabled, setting.hour) == (False, 6)
    # The outsider's token reads and changes the outsider's own, nothing of ours.
    assert outsider.api.get("/api/v1/digest/settings").json()["enabled"] is True
    assert "Acme Corp" not in outsider.api.get("/api/v1/digest/preview").content.decode()


def test_the_api_preview_lists_the_items(world, practitioner):
    _tokens_of(practitioner)
    items = practitioner.api.get("/api/v1/digest/preview").json()["items"]
    assert (
        "Due today: Send the kickoff deck (Globex)" in items
        or "Overdue: Send the kickoff deck (Globex)" in items
    )
