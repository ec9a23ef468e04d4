"""/api/v1/webhooks: CRUD, secret, test event, deliveries and redeliver — admin scope only."""

import pytest

from tend.jobs.models import Job
from tend.test import make_token, token_client
from tend.webhooks.models import Delivery, Subscription, SubscriptionStatus
from tend.webhooks.tests.helpers import URL, make_delivery, make_subscription

pytestmark = pytest.mark.django_db


def test_an_admin_creates_a_webhook_and_sees_the_secret_once_then_reveals_it(owner):
    response = owner.api.post(
        "/api/v1/webhooks",
        {"url": URL, "event_types": ["task.created", "account.created"], "description": "CRM"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["event_types"] == ["account.created", "task.created"]
    assert body["status"] == "active"
    stored = Subscription.objects.get(pk=body["id"])
    assert body["secret"] not in stored.secret_sealed  # encrypted at rest
    assert stored.secret == body["secret"]
    assert "secret" not in owner.api.get(f"/api/v1/webhooks/{body['id']}").json()
    assert owner.api.get(f"/api/v1/webhooks/{body['id']}/secret").json() == {
        "secret": body["secret"]
    }
    rotated = owner.api.post(f"/api/v1/webhooks/{body['id']}/rotate-secret").json()["secret"]
    assert rotated != body["secret"]
    stored.refresh_from_db()
    assert stored.secret == rotated


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"event_types": ["account.created"]}, "url"),
        ({"url": "http://127.0.0.1/", "event_types": ["account.created"]}, "url"),
        ({"url": "ftp://hooks.example.com/", "event_types": ["account.created"]}, "url"),
        ({"url": URL, "event_types": []}, "event_types"),
        ({"url": URL, "event_types": ["account.exploded"]}, "event_types"),
        ({"url": URL}, "event_types"),
        ({"url": URL, "event_types": ["account.created"], "secret": "hunter2"}, "secret"),
        ({"url": URL, "event_types": ["account.created"], "description": "x" * 201}, "description"),
        ({"url": URL, "event_types": ["account.created"], "colour": "red"}, "colour"),
    ],
)
def test_bad_input_gets_422_naming_the_field_and_stores_nothing(owner, payload, field):
    response = owner.api.post("/api/v1/webhooks", payload, content_type="application/json")
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field
    assert not Subscription.objects.exists()


def test_patch_changes_fields_and_validates_them(owner):
    s = make_subscription(owner.workspace)
    response = owner.api.patch(
        f"/api/v1/webhooks/{s.pk}",
        {"event_types": ["segment.entered"], "status": "paused"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["event_types"] == ["segment.entered"]
    assert response.json()["status"] == "paused"
    response = owner.api.patch(
        f"/api/v1/webhooks/{s.pk}",
        {"url": "http://169.254.169.254/"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "url"
    response = owner.api.patch(
        f"/api/v1/webhooks/{s.pk}", {"status": "disabled"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"


def test_enabling_a_disabled_webhook_clears_the_reason(owner):
    s = make_subscription(owner.workspace, status="disabled", disabled_reason="410 Gone")
    body = owner.api.patch(
        f"/api/v1/webhooks/{s.pk}", {"status": "active"}, content_type="application/json"
    ).json()
    assert body["status"] == "active" and body["disabled_reason"] == ""


def test_list_is_paged_with_a_cursor_and_its_queries_do_not_grow(
    owner, django_assert_max_num_queries
):
    ids = [make_subscription(owner.workspace, url=f"{URL}/{n}").pk for n in range(5)]
    with django_assert_max_num_queries(5):
        first = owner.api.get("/api/v1/webhooks?limit=3").json()
    assert [s["id"] for s in first["items"]] == ids[:3]
    second = owner.api.get(f"/api/v1/webhooks?limit=3&cursor={first['next_cursor']}").json()
    assert [s["id"] for s in second["items"]] == ids[3:]
    assert second["next_cursor"] is None


def test_deliveries_are_listed_newest_first_and_filtered(owner, django_assert_max_num_queries):
    s = make_subscription(owner.workspace)
    failed = [make_delivery(s, "failed", n) for n in range(3)]
    delivered = make_delivery(s, "delivered", 9)
    with django_assert_max_num_queries(6):
        page = owner.api.get(f"/api/v1/webhooks/{s.pk}/deliveries?limit=2").json()
    assert [d["id"] for d in page["items"]] == [delivered.pk, failed[2].pk]
    rest = owner.api.get(
        f"/api/v1/webhooks/{s.pk}/deliveries?limit=2&cursor={page['next_cursor']}"
    ).json()
    assert [d["id"] for d in rest["items"]] == [failed[1].pk, failed[0].pk]
    only = owner.api.get(f"/api/v1/webhooks/{s.pk}/deliveries?status=delivered").json()
    assert [d["id"] for d in only["items"]] == [delivered.pk]
    bad = owner.api.get(f"/api/v1/webhooks/{s.pk}/deliveries?status=lost")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"


def test_a_delivery_shows_its_body_and_attempts_and_can_be_redelivered(owner):
    s = make_subscription(owner.workspace)
    d = make_delivery(s, "failed")
    body = owner.api.get(f"/api/v1/webhooks/{s.pk}/deliveries/{d.pk}").json()
    assert body["body"].startswith('{"type":"account.created"')
    assert body["attempt_log"][0]["status_code"] == 503
    response = owner.api.post(f"/api/v1/webhooks/{s.pk}/deliveries/{d.pk}/redeliver")
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert response.json()["message_id"] == d.message_id  # the receiver's idempotency key
    assert Job.objects.filter(kind="webhooks.deliver", payload={"delivery_id": d.pk}).exists()


def test_redeliver_and_test_refuse_a_disabled_endpoint(owner):
    s = make_subscription(owner.workspace, status=SubscriptionStatus.DISABLED)
    d = make_delivery(s, "failed")
    response = owner.api.post(f"/api/v1/webhooks/{s.pk}/deliveries/{d.pk}/redeliver")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "status"
    response = owner.api.post(f"/api/v1/webhooks/{s.pk}/test")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "status"


def test_a_test_event_is_queued_for_the_endpoint(owner):
    s = make_subscription(owner.workspace, types=["task.created"])
    response = owner.api.post(f"/api/v1/webhooks/{s.pk}/test")
    assert response.status_code == 201
    delivery = Delivery.objects.get(pk=response.json()["id"])
    assert delivery.event_type == "webhook.test" and delivery.status == "pending"
    assert b'"type":"webhook.test"' in bytes(delivery.body)


def test_event_types_are_listed_with_examples(owner):
    types = {t["key"]: t for t in owner.api.get("/api/v1/webhooks/event-types").json()}
    for key in ("account.created", "account.updated", "health.rank_changed", "segment.entered",
                "segment.left", "task.created", "task.completed", "play.step_failed",
                "import.finished", "import.failed"):  # fmt: skip
        assert types[key]["example"], key


def test_delete_removes_the_webhook_and_its_log(owner):
    s = make_subscription(owner.workspace)
    make_delivery(s)
    assert owner.api.delete(f"/api/v1/webhooks/{s.pk}").status_code == 204
    assert not Subscription.objects.exists() and not Delivery.objects.exists()


def test_tokens_without_the_admin_scope_get_403_and_change_nothing(owner, viewer):
    s = make_subscription(owner.workspace)
    d = make_delivery(s)
    client = token_client(make_token(owner.workspace, ("read", "write")))
    for c in (client, viewer.api):
        assert c.get("/api/v1/webhooks").status_code == 403
        assert c.get("/api/v1/webhooks/event-types").status_code == 403
        assert c.get(f"/api/v1/webhooks/{s.pk}").status_code == 403
        assert c.get(f"/api/v1/webhooks/{s.pk}/secret").status_code == 403
        assert c.get(f"/api/v1/webhooks/{s.pk}/deliveries").status_code == 403
        assert c.post("/api/v1/webhooks", {"url": URL, "event_types": ["account.created"]},
                      content_type="application/json").status_code == 403  # fmt: skip
        assert c.patch(f"/api/v1/webhooks/{s.pk}", {"url": URL + "/x"},
                       content_type="application/json").status_code == 403  # fmt: skip
        assert c.post(f"/api/v1/webhooks/{s.pk}/rotate-secret").status_code == 403
        assert c.post(f"/api/v1/webhooks/{s.pk}/retire-previous-secret").status_code == 403
        assert c.post(f"/api/v1/webhooks/{s.pk}/test").status_code == 403
        assert c.post(f"/api/v1/webhooks/{s.pk}/deliveries/{d.pk}/redeliver").status_code == 403
        assert c.delete(f"/api/v1/webhooks/{s.pk}").status_code == 403
    s.refresh_from_db()
    assert s.url == URL and Subscription.objects.count() == 1
    assert Delivery.objects.count() == 1 and not Job.objects.exists()


def test_outsiders_get_404_on_every_webhook_route(owner, outsider):
    s = make_subscription(owner.workspace)
    d = make_delivery(s)
    base = f"/api/v1/webhooks/{s.pk}"
    for method, url in [
        ("get", base), ("patch", base), ("delete", base), ("get", f"{base}/secret"),
        ("post", f"{base}/rotate-secret"), ("post", f"{base}/retire-previous-secret"),
        ("post", f"{base}/test"),
        ("get", f"{base}/deliveries"), ("get", f"{base}/deliveries/{d.pk}"),
        ("post", f"{base}/deliveries/{d.pk}/redeliver"),
    ]:  # fmt: skip
        if method == "get":
            response = outsider.api.get(url)
        else:
            response = getattr(outsider.api, method)(url, b"{}", content_type="application/json")
        assert response.status_code == 404, (method, url, response.status_code)
    # Our own delivery id under the outsider's own webhook is not found either.
    theirs = make_subscription(outsider.workspace)
    response = outsider.api.get(f"/api/v1/webhooks/{theirs.pk}/deliveries/{d.pk}")
    assert response.status_code == 404
    assert outsider.api.get("/api/v1/webhooks").json()["items"] == [
        {**outsider.api.get(f"/api/v1/webhooks/{theirs.pk}").json()}
    ]
    s.refresh_from_db()
    assert s.url == URL
