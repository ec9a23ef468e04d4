"""End to end against a real HTTP receiver on loopback: events made by ordinary actions go
through the events app and the job queue to four endpoints — one failing a tenth of the
time, one trickling (sometimes past the deadline), one redirecting, one answering 410.

The first test takes about 3 s on purpose: some 80 real HTTP exchanges through the job
queue, three of them cut at the 0.4 s test deadline by a receiver trickling for 0.8 s."""

import json
import logging

import orjson
import pytest
from standardwebhooks.webhooks import Webhook

from tend.accounts.actions.accounts import create_account, update_account
from tend.events.models import Event
from tend.lib.outgoing import verify
from tend.notifications.models import Notification
from tend.webhooks import actions
from tend.webhooks.models import Delivery, DeliveryStatus, SubscriptionStatus
from tend.webhooks.tests.conftest import deliver_everything
from tend.webhooks.tests.receiver import Receiver
from tend.work.actions import complete_task, create_task

pytestmark = pytest.mark.django_db

TYPES = ["account.created", "account.updated", "task.created", "task.completed"]


def make_events(actor) -> int:
    accounts = [
        create_account(actor, {"external_id": f"acc-{n}", "name": f"Account {n}"}) for n in range(8)
    ]
    update_account(actor, accounts[0], {"name": "Account zero"})
    update_account(actor, accounts[1], {"status": "paying"})
    tasks = [create_task(actor, accounts[n], {"title": f"Call {n}"}) for n in range(2)]
    complete_task(actor, tasks[0])
    return 8 + 2 + 2 + 1


def test_every_event_reaches_the_healthy_endpoints_signed_and_the_410_one_is_disabled(
    owner, loopback_allowed, caplog
):
    caplog.set_level(logging.INFO, logger="tend.webhooks")
    with Receiver(fail_rate=0.1, slow_seconds=0.8) as receiver:
        subscriptions = {}
        for name in ("healthy", "trickle", "redirect", "gone"):
            subscription, secret = actions.create_subscription(
                owner.actor, {"url": receiver.url(f"/{name}/hook"), "event_types": TYPES}
            )
            subscriptions[name] = (subscription, secret)

        expected = make_events(owner.actor)
        events = list(Event.objects.filter(workspace=owner.workspace).order_by("id"))
        assert len(events) == expected  # recorded with the changes, before any job ran
        assert not Delivery.objects.exists()

        deliver_everything()

    # Healthy and trickling endpoints: every event accepted, each message id once at least.
    for name in ("healthy", "trickle"):
        subscription, secret = subscriptions[name]
        deliveries = Delivery.objects.filter(subscription=subscription)
        assert deliveries.count() == expected
        assert set(deliveries.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
        accepted = receiver.accepted(f"/{name}/")
        by_id = {r.headers["webhook-id"]: r for r in accepted}
        assert set(by_id) == set(deliveries.values_list("message_id", flat=True))
        got_events = sorted(
            (
                orjson.loads(r.body)["type"],
                orjson.loads(r.body)["data"].get("account", {}).get("id"),
            )
            for r in by_id.values()
        )
        want_events = sorted((e.type, e.data.get("account", {}).get("id")) for e in events)
        assert got_events == want_events
        for request in receiver.received(f"/{name}/"):
            verify(secret, request.headers, request.body)  # raises if forged or stale
            Webhook(secret).verify(request.body, request.headers)  # the reference library too
    # The 10% failures happened and were retried under the same webhook-id.
    healthy_requests = receiver.received("/healthy/")
    assert len(healthy_requests) > expected
    # Trickling past the deadline cost a retry; within it, the answer counted.
    trickled = Delivery.objects.filter(subscription=subscriptions["trickle"][0], attempts__gt=1)
    assert trickled.exists()
    slow = trickled.first().attempt_log.order_by("number").first()
    assert slow.outcome == "retry" and "0.4" in slow.reason
    assert slow.duration_ms < 700  # the 0.4 s deadline, not the 0.8 s trickle

    # Redirects are never followed: each delivery failed at its first attempt.
    redirect, _ = subscriptions["redirect"]
    failed = Delivery.objects.filter(subscription=redirect)
    assert set(failed.values_list("status", "attempts")) == {(DeliveryStatus.FAILED, 1)}
    assert "not followed" in failed.first().reason
    assert receiver.received("/redirect-target") == []

    # 410: one request, the endpoint disabled with the reason, the rest not sent.
    gone, _ = subscriptions["gone"]
    gone.refresh_from_db()
    assert gone.status == SubscriptionStatus.DISABLED
    assert "410" in gone.disabled_reason
    assert len(receiver.received("/gone/")) == 1
    gone_deliveries = Delivery.objects.filter(subscription=gone)
    assert set(gone_deliveries.values_list("status", flat=True)) == {DeliveryStatus.FAILED}
    assert gone_deliveries.filter(reason__contains="disabled").count() == expected - 1
    assert any(
        r.levelno == logging.WARNING and "disabled" in r.getMessage() for r in caplog.records
    )
    [told] = Notification.objects.filter(member=owner.member)  # each admin, in the app
    assert told.kind == "webhook" and told.url == f"/settings/webhooks/{gone.pk}/"
    assert "410" in told.cause
    # New events no longer go to the disabled endpoint.
    create_account(owner.actor, {"external_id": "late", "name": "Late"})
    deliver_everything()
    assert Delivery.objects.filter(subscription=gone).count() == expected


def test_the_body_is_the_event_as_standard_webhooks_shapes_it(owner, loopback_allowed):
    with Receiver(fail_rate=0) as receiver:
        actions.create_subscription(
            owner.actor, {"url": receiver.url("/healthy/a"), "event_types": ["account.created"]}
        )
        account = create_account(owner.actor, {"external_id": "acme", "name": "Acme"})
        deliver_everything()
    [request] = receiver.received("/healthy/")
    body = json.loads(request.body)
    assert body["type"] == "account.created"
    assert body["data"]["account"] == {
        "id": account.pk,
        "external_id": "acme",
        "name": "Acme",
        "status": account.status,
    }
    assert body["timestamp"].startswith(str(account.created_at.year))
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"].startswith("msg_")
