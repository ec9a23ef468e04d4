"""GET /api/v1/outbox, GET /api/v1/outbox/{id}, POST /api/v1/outbox/{id}/retry: admin scope."""

import pytest
from django.utils import timezone

from tend.outbox.models import AttemptOutcome, DeliveryAttempt, Message, MessageStatus
from tend.outbox.tests.test_pages import make_message
from tend.test import make_token, token_client

pytestmark = pytest.mark.django_db


def test_the_list_is_newest_first_with_a_cursor_and_a_status_filter(
    owner, django_assert_max_num_queries
):
    ids = [make_message(owner.workspace, MessageStatus.SENT, n).pk for n in range(5)]
    failed = make_message(owner.workspace, MessageStatus.FAILED, 9)

    with django_assert_max_num_queries(6):
        first = owner.api.get("/api/v1/outbox?limit=4").json()
    assert [m["id"] for m in first["items"]] == [failed.pk, *ids[::-1][:3]]
    assert "text" not in first["items"][0]
    second = owner.api.get(f"/api/v1/outbox?limit=4&cursor={first['next_cursor']}").json()
    assert [m["id"] for m in second["items"]] == ids[1::-1]
    assert second["next_cursor"] is None

    only_failed = owner.api.get("/api/v1/outbox?status=failed").json()
    assert [m["id"] for m in only_failed["items"]] == [failed.pk]
    assert only_failed["items"][0]["reason"].startswith("550 5.1.1")


def test_bad_filters_get_422_naming_the_field(owner):
    response = owner.api.get("/api/v1/outbox?status=bounced")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"
    response = owner.api.get("/api/v1/outbox?cursor=nonsense")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "cursor", "message": "cursor is not one this API issued"}
    ]


def test_a_message_has_its_parts_headers_and_delivery_log(owner):
    message = make_message(owner.workspace, MessageStatus.FAILED, 1)
    DeliveryAttempt.objects.create(
        workspace=owner.workspace,
        message=message,
        number=1,
        outcome=AttemptOutcome.FAILED,
        smtp_code=550,
        reply="550 5.1.1 No such user",
        transport="smtp://mail:25",
        finished_at=timezone.now(),
    )
    body = owner.api.get(f"/api/v1/outbox/{message.pk}").json()
    assert body["status"] == "failed"
    assert body["text"] == "Hello there.\n"
    assert ["Message-ID", message.message_id] in body["headers"]
    assert body["delivery_log"][0]["smtp_code"] == 550
    assert body["delivery_log"][0]["outcome"] == "failed"


def test_retry_queues_the_message_and_refuses_a_sent_one(owner):
    failed = make_message(owner.workspace, MessageStatus.FAILED, 1)
    response = owner.api.post(f"/api/v1/outbox/{failed.pk}/retry")
    assert response.status_code == 200
    assert response.json()["status"] == "queued"

    sent = make_message(owner.workspace, MessageStatus.SENT, 2)
    response = owner.api.post(f"/api/v1/outbox/{sent.pk}/retry")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"


def test_tokens_without_the_admin_scope_get_403(owner):
    message = make_message(owner.workspace, MessageStatus.FAILED, 1)
    client = token_client(make_token(owner.workspace, ("read", "write")))
    assert client.get("/api/v1/outbox").status_code == 403
    assert client.get(f"/api/v1/outbox/{message.pk}").status_code == 403
    response = client.post(f"/api/v1/outbox/{message.pk}/retry")
    assert response.status_code == 403
    assert response.json()["detail"] == "This API token lacks the 'admin' scope."
    assert Message.objects.get(pk=message.pk).status == MessageStatus.FAILED


def test_an_outsider_gets_404_and_an_empty_list(owner, outsider):
    message = make_message(owner.workspace, MessageStatus.FAILED, 1)
    assert outsider.api.get(f"/api/v1/outbox/{message.pk}").status_code == 404
    assert outsider.api.post(f"/api/v1/outbox/{message.pk}/retry").status_code == 404
    assert outsider.api.get("/api/v1/outbox").json()["items"] == []
    assert Message.objects.get(pk=message.pk).status == MessageStatus.FAILED
