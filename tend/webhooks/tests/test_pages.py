"""Settings → Webhooks: add an endpoint (secret shown once), its page with the delivery log
and status filter, a delivery's attempts, redeliver, test event, pause, reveal and rotate,
delete — admins only (other seats 403), other workspaces' ids 404, queries bounded."""

import pytest
from django.test import Client

from tend.jobs.models import Job
from tend.webhooks.models import Delivery, Subscription, SubscriptionStatus
from tend.webhooks.tests.helpers import URL, make_delivery, make_subscription

pytestmark = pytest.mark.django_db


def test_adding_an_endpoint_shows_its_secret_once(owner):
    response = owner.browser.post(
        "/settings/webhooks/",
        {
            "url": URL,
            "description": "CRM sync",
            "event_types": ["account.created", "task.completed"],
        },
    )
    assert response.status_code == 200
    subscription = Subscription.objects.get()
    assert subscription.event_types == ["account.created", "task.completed"]
    body = response.content.decode()
    assert subscription.secret in body
    again = owner.browser.get(f"/settings/webhooks/{subscription.pk}/").content.decode()
    assert subscription.secret not in again
    revealed = owner.browser.post(
        f"/settings/webhooks/{subscription.pk}/secret/", {"action": "reveal"}
    )
    assert subscription.secret in revealed.content.decode()
    rotated = owner.browser.post(
        f"/settings/webhooks/{subscription.pk}/secret/", {"action": "rotate"}
    )
    subscription.refresh_from_db()
    assert subscription.secret in rotated.content.decode()


def test_a_form_without_events_or_with_a_bad_url_is_refused_beside_the_field(owner):
    response = owner.browser.post("/settings/webhooks/", {"url": URL})
    assert response.status_code == 400
    assert "Choose at least one event type." in response.content.decode()
    response = owner.browser.post(
        "/settings/webhooks/", {"url": "http://192.168.1.1/", "event_types": ["account.created"]}
    )
    assert response.status_code == 400
    assert "private network address" in response.context["form"].errors["url"][0]
    assert not Subscription.objects.exists()


def test_the_list_shows_each_endpoint_and_its_queries_do_not_grow(
    owner, django_assert_max_num_queries
):
    for n in range(3):
        s = make_subscription(owner.workspace, url=f"{URL}/{n}")
        make_delivery(s, "failed", n)
        make_delivery(s, "delivered", n)
    owner.browser.get("/settings/webhooks/")  # the login's session writes happen here
    with django_assert_max_num_queries(10) as few:
        owner.browser.get("/settings/webhooks/")
    for n in range(3, 8):
        s = make_subscription(owner.workspace, url=f"{URL}/{n}")
        make_delivery(s, "failed", n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = owner.browser.get("/settings/webhooks/")
    body = response.content.decode()
    assert all(f"{URL}/{n}" in body for n in range(8))
    assert "Account created" in body


def test_the_delivery_log_filters_by_status_and_its_queries_do_not_grow(
    owner, django_assert_max_num_queries
):
    s = make_subscription(owner.workspace)
    make_delivery(s, "delivered", 1)
    failed = make_delivery(s, "failed", 2)
    owner.browser.get(f"/settings/webhooks/{s.pk}/")  # the login's session writes happen here
    with django_assert_max_num_queries(10) as few:
        owner.browser.get(f"/settings/webhooks/{s.pk}/")
    for n in range(10):
        make_delivery(s, "failed", n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = owner.browser.get(f"/settings/webhooks/{s.pk}/?status=failed")
    body = response.content.decode()
    assert f"delivery-{failed.pk}" in body
    assert 'Failed <span class="job-tab-count">11</span>' in body
    assert owner.browser.get(f"/settings/webhooks/{s.pk}/?status=lost").status_code == 400


def test_a_delivery_page_shows_attempts_and_redeliver_queues_it(owner):
    s = make_subscription(owner.workspace)
    d = make_delivery(s, "failed")
    body = owner.browser.get(f"/settings/webhooks/{s.pk}/deliveries/{d.pk}/").content.decode()
    assert "503 Service Unavailable" in body and d.message_id in body
    response = owner.browser.post(f"/settings/webhooks/{s.pk}/deliveries/{d.pk}/redeliver/")
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.status == "pending"
    assert Job.objects.filter(kind="webhooks.deliver").count() == 1


def test_a_disabled_endpoint_says_why_and_can_be_enabled(owner):
    s = make_subscription(
        owner.workspace,
        status=SubscriptionStatus.DISABLED,
        disabled_reason="The endpoint answered 410 Gone: the receiver asked to stop sending to this URL.",
    )
    body = owner.browser.get(f"/settings/webhooks/{s.pk}/").content.decode()
    assert 'id="disabled-banner"' in body and "410 Gone" in body
    assert f"/settings/webhooks/{s.pk}/test/" not in body  # no test button
    owner.browser.post(f"/settings/webhooks/{s.pk}/status/", {"status": "active"})
    s.refresh_from_db()
    assert s.status == "active" and not s.disabled_reason


def test_send_test_event_edit_pause_and_delete(owner):
    s = make_subscription(owner.workspace)
    response = owner.browser.post(f"/settings/webhooks/{s.pk}/test/")
    assert response.status_code == 302
    assert Delivery.objects.get().event_type == "webhook.test"
    owner.browser.post(
        f"/settings/webhooks/{s.pk}/edit/", {"url": URL + "/v2", "event_types": ["task.created"]}
    )
    s.refresh_from_db()
    assert s.url == URL + "/v2" and s.event_types == ["task.created"]
    response = owner.browser.post(
        f"/settings/webhooks/{s.pk}/edit/", {"url": "gopher://x/", "event_types": ["task.created"]}
    )
    assert response.status_code == 400 and response.context["form"].errors["url"]
    owner.browser.post(f"/settings/webhooks/{s.pk}/status/", {"status": "paused"})
    s.refresh_from_db()
    assert s.status == "paused"
    owner.browser.post(f"/settings/webhooks/{s.pk}/delete/")
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("seat", ["viewer", "practitioner"])
def test_other_seats_get_403_and_change_nothing(owner, seat, request):
    persona = request.getfixturevalue(seat)
    s = make_subscription(owner.workspace)
    d = make_delivery(s)
    base = f"/settings/webhooks/{s.pk}"
    assert persona.browser.get("/settings/webhooks/").status_code == 403
    assert persona.browser.get(f"{base}/").status_code == 403
    assert persona.browser.get(f"{base}/deliveries/{d.pk}/").status_code == 403
    for url, data in [
        ("/settings/webhooks/", {"url": URL, "event_types": ["account.created"]}),
        (f"{base}/edit/", {"url": URL + "/x", "event_types": ["account.created"]}),
        (f"{base}/status/", {"status": "paused"}),
        (f"{base}/secret/", {"action": "reveal"}),
        (f"{base}/test/", {}),
        (f"{base}/deliveries/{d.pk}/redeliver/", {}),
        (f"{base}/delete/", {}),
    ]:
        assert persona.browser.post(url, data).status_code == 403, url
    s.refresh_from_db()
    assert s.url == URL and s.status == "active"
    assert Subscription.objects.count() == 1 and Delivery.objects.count() == 1
    assert not Job.objects.exists()


def test_outsiders_get_404_on_every_page(owner, outsider):
    s = make_subscription(owner.workspace)
    d = make_delivery(s)
    base = f"/settings/webhooks/{s.pk}"
    for url in (f"{base}/", f"{base}/deliveries/{d.pk}/"):
        assert outsider.browser.get(url).status_code == 404
    for url in ("edit/", "status/", "secret/", "test/", f"deliveries/{d.pk}/redeliver/", "delete/"):
        assert outsider.browser.post(f"{base}/{url}", {"status": "paused"}).status_code == 404
    theirs = make_subscription(outsider.workspace, url="https://globex.example.com/hook")
    assert (
        outsider.browser.get(f"/settings/webhooks/{theirs.pk}/deliveries/{d.pk}/").status_code
        == 404
    )
    listed = outsider.browser.get("/settings/webhooks/").content.decode()
    assert theirs.url in listed and URL not in listed
    s.refresh_from_db()
    assert s.status == "active" and Delivery.objects.get(pk=d.pk).status == "failed"


def test_posts_need_a_csrf_token(owner):
    s = make_subscription(owner.workspace)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.member.user)
    assert client.post(f"/settings/webhooks/{s.pk}/delete/").status_code == 403
    assert Subscription.objects.filter(pk=s.pk).exists()
