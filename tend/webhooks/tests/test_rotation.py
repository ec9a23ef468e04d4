"""Rotating a secret with an overlap: while the old secret is kept, every attempt carries two
``v1`` signatures and a receiver holding either secret accepts it (checked with the Standard
Webhooks reference library); after the overlap, or once retired, only the new one signs."""

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tend.lib.outgoing.tests.servers import HttpServer, Reply
from tend.webhooks import actions
from tend.webhooks.models import Subscription
from tend.webhooks.tests.conftest import run_due_jobs
from tend.webhooks.tests.helpers import make_subscription

pytestmark = pytest.mark.django_db


def accepted_by(secret: str, request) -> bool:
    try:
        Webhook(secret).verify(request.body, dict(request.headers))
    except WebhookVerificationError:
        return False
    return True


def send_one(owner, subscription, server):
    actions.send_test_event(owner.actor, subscription)
    run_due_jobs()
    return server.requests[-1]


def test_during_the_overlap_both_secrets_verify_then_only_the_new_one(owner, loopback_allowed):
    with HttpServer(lambda request: Reply(204, b"")) as server:
        subscription = make_subscription(owner.workspace, url=server.url("/hook"))
        old = subscription.secret
        response = owner.api.post(
            f"/api/v1/webhooks/{subscription.pk}/rotate-secret",
            {"keep_previous_hours": 24},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        new = response.json()["secret"]
        until = response.json()["previous_secret_until"]
        assert new != old and until is not None
        subscription.refresh_from_db()
        assert old not in subscription.previous_secret_sealed  # still encrypted at rest
        assert subscription.previous_secret_until - timezone.now() > timedelta(hours=23)

        request = send_one(owner, subscription, server)
        assert len(request.headers["webhook-signature"].split()) == 2
        assert accepted_by(new, request) and accepted_by(old, request)

        # The overlap ends: the old secret no longer signs.
        Subscription.objects.filter(pk=subscription.pk).update(
            previous_secret_until=timezone.now() - timedelta(seconds=1)
        )
        request = send_one(owner, subscription, server)
        assert len(request.headers["webhook-signature"].split()) == 1
        assert accepted_by(new, request) and not accepted_by(old, request)


def test_retiring_the_previous_secret_and_rotating_without_overlap(owner, loopback_allowed):
    with HttpServer(lambda request: Reply(204, b"")) as server:
        subscription = make_subscription(owner.workspace, url=server.url("/hook"))
        old = subscription.secret
        new = actions.rotate_secret(owner.actor, subscription, keep_previous_hours=72)
        body = owner.api.post(f"/api/v1/webhooks/{subscription.pk}/retire-previous-secret")
        assert body.status_code == 200 and body.json()["previous_secret_until"] is None
        request = send_one(owner, subscription, server)
        assert accepted_by(new, request) and not accepted_by(old, request)

        newest = owner.api.post(f"/api/v1/webhooks/{subscription.pk}/rotate-secret").json()
        assert newest["previous_secret_until"] is None  # no body: the old one stops at once
        request = send_one(owner, subscription, server)
        assert accepted_by(newest["secret"], request) and not accepted_by(new, request)


@pytest.mark.parametrize("hours", [-1, 169, "a day", 1.5, True])
def test_an_overlap_out_of_range_is_refused_naming_the_field(owner, hours):
    subscription = make_subscription(owner.workspace)
    sealed = subscription.secret_sealed
    response = owner.api.post(
        f"/api/v1/webhooks/{subscription.pk}/rotate-secret",
        {"keep_previous_hours": hours},
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    assert "keep_previous_hours" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.secret_sealed == sealed and not subscription.previous_secret_sealed


def test_the_page_rotates_with_an_overlap_shows_it_and_retires_it(owner, viewer):
    subscription = make_subscription(owner.workspace)
    old = subscription.secret
    url = f"/settings/webhooks/{subscription.pk}/secret/"
    assert viewer.browser.post(url, {"action": "rotate"}).status_code == 403
    bad = owner.browser.post(url, {"action": "rotate", "keep_previous_hours": "forever"})
    assert bad.status_code == 400 and "keep_previous_hours" in bad.content.decode()
    response = owner.browser.post(url, {"action": "rotate", "keep_previous_hours": "24"})
    subscription.refresh_from_db()
    page = response.content.decode()
    assert subscription.secret in page and old not in page
    assert 'id="previous-secret"' in page and "Stop the previous secret now" in page
    assert subscription.previous_secret == old
    response = owner.browser.post(url, {"action": "retire"})
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert not subscription.previous_secret_sealed
    page = owner.browser.get(f"/settings/webhooks/{subscription.pk}/").content.decode()
    assert 'id="previous-secret"' not in page
