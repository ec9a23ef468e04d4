"""One attempt at a time: the retry schedule past 24 hours, a killed worker's attempt, a
delivered delivery never sent again, paused endpoints holding deliveries back, and the
sweep that finds deliveries whose job was lost."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tend.jobs.models import Job
from tend.lib.outgoing.tests.servers import HttpServer, Reply
from tend.webhooks import actions
from tend.webhooks.models import Attempt, Delivery, DeliveryStatus, SubscriptionStatus
from tend.webhooks.tests.conftest import run_due_jobs, skip_waits
from tend.webhooks.tests.helpers import make_subscription

pytestmark = pytest.mark.django_db


def queued_test_event(owner, url):
    subscription = make_subscription(owner.workspace, url=url)
    return subscription, actions.send_test_event(owner.actor, subscription)


def test_a_failing_endpoint_is_retried_on_the_schedule_for_more_than_a_day_then_given_up(
    owner, loopback_allowed
):
    with HttpServer(lambda request: Reply(503, b"down")) as server:
        _, delivery = queued_test_event(owner, server.url("/hook"))
        waits = []
        for _ in range(20):
            run_due_jobs()
            delivery.refresh_from_db()
            if delivery.status == DeliveryStatus.FAILED:
                break
            last = delivery.attempt_log.order_by("-number").first()
            waits.append(delivery.next_attempt_at - last.started_at)
            skip_waits()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 8
    assert delivery.reason.startswith("gave up after 8 attempts")
    assert sum(waits, timedelta()) >= timedelta(hours=24)
    assert waits[0] >= timedelta(seconds=5) and waits[-1] >= timedelta(hours=10)
    assert len(server.requests) == 8
    assert {r.headers["webhook-id"] for r in server.requests} == {delivery.message_id}
    numbers = list(delivery.attempt_log.values_list("number", "outcome", "status_code"))
    assert numbers[0] == (1, "retry", 503) and numbers[-1] == (8, "failed", 503)


def test_a_4xx_fails_at_once_and_keeps_the_response(owner, loopback_allowed):
    with HttpServer(lambda request: Reply(422, b'{"error": "unknown field"}')) as server:
        _, delivery = queued_test_event(owner, server.url("/hook"))
        run_due_jobs()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    attempt = delivery.attempt_log.get()
    assert attempt.response_body == '{"error": "unknown field"}'
    assert attempt.request_headers["webhook-id"] == delivery.message_id
    assert attempt.address == "127.0.0.1"


def test_a_delivered_delivery_is_not_sent_again_by_a_second_job(owner, loopback_allowed):
    with HttpServer() as server:
        _, delivery = queued_test_event(owner, server.url("/hook"))
        run_due_jobs()
        assert actions.deliver(delivery.pk, claim="job:other") is None
    assert len(server.requests) == 1


def test_an_attempt_cut_short_by_a_dead_worker_is_marked_and_the_delivery_goes_out(
    owner, loopback_allowed
):
    with HttpServer() as server:
        subscription, delivery = queued_test_event(owner, server.url("/hook"))
        # A worker claimed it, logged attempt 1 and died before sending.
        past = timezone.now() - timedelta(minutes=5)
        Delivery.objects.filter(pk=delivery.pk).update(
            claimed_by="job:dead", claimed_until=past, attempts=1
        )
        Attempt.objects.create(
            workspace=owner.workspace,
            delivery=delivery,
            number=1,
            url=subscription.url,
            started_at=past,
        )
        run_due_jobs()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert list(delivery.attempt_log.values_list("number", "outcome")) == [
        (1, "interrupted"),
        (2, "delivered"),
    ]
    assert len(server.requests) == 1


def test_a_live_claim_keeps_other_jobs_away(owner, loopback_allowed):
    with HttpServer() as server:
        _, delivery = queued_test_event(owner, server.url("/hook"))
        Delivery.objects.filter(pk=delivery.pk).update(
            claimed_by="job:busy", claimed_until=timezone.now() + timedelta(minutes=1)
        )
        assert actions.deliver(delivery.pk, claim="job:other") is None
    assert server.requests == []


def test_a_paused_endpoint_keeps_deliveries_until_it_is_resumed(owner, loopback_allowed):
    with HttpServer() as server:
        subscription, delivery = queued_test_event(owner, server.url("/hook"))
        actions.update_subscription(owner.actor, subscription, {"status": "paused"})
        run_due_jobs()
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.PENDING and server.requests == []
        actions.update_subscription(owner.actor, subscription, {"status": "active"})
        run_due_jobs()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert len(server.requests) == 1


def test_a_delivery_whose_job_was_lost_is_queued_again(owner):
    subscription, delivery = queued_test_event(owner, "https://hooks.example.com/")
    Job.objects.all().delete()
    assert actions.requeue_stalled() == 0
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=10)
    )
    assert actions.requeue_stalled() == 1
    assert actions.requeue_stalled() == 1  # the same queued job, not a second one
    assert Job.objects.filter(kind="webhooks.deliver").count() == 1
    subscription.status = SubscriptionStatus.PAUSED
    subscription.save()
    Job.objects.all().delete()
    assert actions.requeue_stalled() == 0  # a paused endpoint's deliveries wait


def test_redelivery_resends_the_same_body_and_id_signed_afresh(owner, loopback_allowed):
    with HttpServer() as server:
        _, delivery = queued_test_event(owner, server.url("/hook"))
        run_due_jobs()
        actions.redeliver(owner.actor, delivery)
        run_due_jobs()
    first, second = server.requests
    assert first.body == second.body
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2


def test_finished_deliveries_are_purged_after_thirty_days(owner):
    _, old = queued_test_event(owner, "https://hooks.example.com/")
    _, pending = queued_test_event(owner, "https://hooks.example.com/2")
    Delivery.objects.filter(pk__in=[old.pk, pending.pk]).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    Delivery.objects.filter(pk=old.pk).update(status=DeliveryStatus.DELIVERED)
    assert actions.purge() == 1
    assert list(Delivery.objects.values_list("pk", flat=True)) == [pending.pk]


def test_a_secret_sealed_under_a_lost_key_is_retried_with_the_reason_and_not_revealed(
    owner, settings
):
    settings.TEND_SECRETS_KEYS = "the old key"
    subscription, delivery = queued_test_event(owner, "https://hooks.example.com/")
    settings.TEND_SECRETS_KEYS = "a new key that forgot the old one"
    run_due_jobs()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING
    assert "cannot be decrypted" in delivery.reason
    response = owner.api.get(f"/api/v1/webhooks/{subscription.pk}/secret")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "secret"
