"""Settings → Outbox: the list with its status filter and counts, a message with its parts
and delivery log, "Retry now"; admins only, other workspaces' messages 404."""

import html
from datetime import timedelta

import pytest
from django.utils import timezone

from tend.jobs.models import Job
from tend.outbox.actions import queue_email
from tend.outbox.models import AttemptOutcome, DeliveryAttempt, Message, MessageStatus

pytestmark = pytest.mark.django_db


def make_message(workspace, status=MessageStatus.QUEUED, n=1, **fields):
    message = queue_email(
        workspace,
        to=[f"person{n}@customer.test"],
        subject=fields.pop("subject", f"Message {n}"),
        text="Hello there.\n",
        html=fields.pop("html", "<p>Hello <strong>there</strong>.</p>"),
        source="tests",
    )
    updates = {"status": status, **fields}
    if status == MessageStatus.FAILED:
        updates.setdefault("reason", "550 5.1.1 No such user (after RCPT TO)")
        updates.setdefault("failed_at", timezone.now())
    Message.objects.filter(pk=message.pk).update(**updates)
    message.refresh_from_db()
    return message


def test_the_list_shows_messages_counts_and_filters_by_status(owner):
    make_message(owner.workspace, MessageStatus.SENT, 1, sent_at=timezone.now())
    make_message(owner.workspace, MessageStatus.FAILED, 2)
    make_message(owner.workspace, MessageStatus.RETRYING, 3, reason="451 busy")

    response = owner.browser.get("/settings/outbox/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'Failed <span class="job-tab-count">1</span>' in body
    assert 'All <span class="job-tab-count">3</span>' in body
    assert all(f"Message {n}" in body for n in (1, 2, 3))
    assert "Email is not being sent." in body or "Delivering through" in body

    failed = owner.browser.get("/settings/outbox/?status=failed").content.decode()
    assert "Message 2" in failed
    assert "Message 1" not in failed and "Message 3" not in failed
    assert "550 5.1.1 No such user" in failed


def test_an_unknown_status_is_a_400_naming_the_choices(owner):
    response = owner.browser.get("/settings/outbox/?status=bounced")
    assert response.status_code == 400
    assert b"choose one of queued, retrying, sent, failed" in response.content


def test_an_empty_outbox_says_what_will_appear(owner):
    body = owner.browser.get("/settings/outbox/").content.decode()
    assert "No email yet" in body
    body = owner.browser.get("/settings/outbox/?status=failed").content.decode()
    assert "No failed messages" in body


def test_the_development_default_is_announced(owner, settings):
    settings.EMAIL_URL = ""
    body = owner.browser.get("/settings/outbox/").content.decode()
    assert "Email is not being sent." in body
    settings.EMAIL_URL = "smtp://user:secret@mail.example.com:2525?tls=1"
    body = owner.browser.get("/settings/outbox/").content.decode()
    assert "Delivering through <code>smtp+tls://user@mail.example.com:2525</code>" in body
    assert "secret" not in body


def test_the_list_query_count_does_not_grow_with_messages(owner, django_assert_max_num_queries):
    for n in range(40):
        make_message(owner.workspace, MessageStatus.SENT, n, sent_at=timezone.now())
    owner.browser.get("/settings/outbox/")  # warm the session
    with django_assert_max_num_queries(8):
        response = owner.browser.get("/settings/outbox/")
    assert response.content.decode().count('<tr id="message-') == 40


def test_the_list_is_paginated(owner):
    for n in range(55):
        make_message(owner.workspace, MessageStatus.SENT, n)
    first = owner.browser.get("/settings/outbox/").content.decode()
    assert first.count('<tr id="message-') == 50
    assert "1–50 of 55 messages" in first
    second = owner.browser.get("/settings/outbox/?page=2").content.decode()
    assert second.count('<tr id="message-') == 5


def test_a_message_shows_headers_text_sandboxed_html_and_its_delivery_log(owner):
    message = make_message(
        owner.workspace, MessageStatus.FAILED, 1, html='<p onclick="x()">Hi <b>A&amp;B</b></p>'
    )
    DeliveryAttempt.objects.create(
        workspace=owner.workspace,
        message=message,
        number=1,
        outcome=AttemptOutcome.FAILED,
        smtp_code=550,
        reply="550 5.1.1 No such user (after RCPT TO)",
        transport="smtp://mail:25",
        finished_at=timezone.now(),
    )
    response = owner.browser.get(f"/settings/outbox/{message.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert html.escape(message.message_id) in body
    assert "<dt>Auto-Submitted</dt>" in body
    assert "Hello there." in body
    # The HTML part only inside the sandboxed frame, escaped into its srcdoc attribute.
    assert (
        'sandbox="" referrerpolicy="no-referrer" srcdoc="&lt;p onclick=&quot;x()&quot;&gt;Hi &lt;b&gt;A&amp;amp;B&lt;/b&gt;&lt;/p&gt;"'
        in body
    )
    assert '<p onclick="x()">' not in body
    assert "550 5.1.1 No such user (after RCPT TO)" in body
    assert "Retry now" in body


def test_retry_now_queues_a_failed_message_at_once(owner):
    message = make_message(owner.workspace, MessageStatus.FAILED, 1, retries=8)
    Job.objects.filter(kind="outbox.deliver").delete()

    response = owner.browser.post(f"/settings/outbox/{message.pk}/retry/")

    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.status, message.retries, message.failed_at) == (MessageStatus.QUEUED, 0, None)
    assert message.next_attempt_at <= timezone.now()
    assert (
        Job.objects.filter(
            kind="outbox.deliver", status="queued", payload__message_id=message.pk
        ).count()
        == 1
    )
    assert (
        "Queued: the next attempt starts within seconds."
        in owner.browser.get(response.url).content.decode()
    )


def test_retry_now_moves_a_waiting_retry_forward_without_a_second_job(owner):
    message = make_message(owner.workspace, MessageStatus.RETRYING, 1, retries=3)
    later = timezone.now() + timedelta(hours=1)
    Message.objects.filter(pk=message.pk).update(next_attempt_at=later)
    Job.objects.filter(kind="outbox.deliver").update(due_at=later)

    owner.browser.post(f"/settings/outbox/{message.pk}/retry/")

    [job] = Job.objects.filter(kind="outbox.deliver", payload__message_id=message.pk)
    assert job.due_at <= timezone.now()


def test_a_sent_message_cannot_be_retried(owner):
    message = make_message(owner.workspace, MessageStatus.SENT, 1)
    response = owner.browser.post(f"/settings/outbox/{message.pk}/retry/")
    assert response.status_code == 400
    assert (
        "Only failed or retrying messages can be retried; this one is sent."
        in response.content.decode()
    )
    assert Message.objects.get(pk=message.pk).status == MessageStatus.SENT


@pytest.mark.parametrize("seat", ["practitioner", "contributor", "viewer"])
def test_other_seats_get_403(request, owner, seat):
    persona = request.getfixturevalue(seat)
    message = make_message(owner.workspace, MessageStatus.FAILED, 1)
    assert persona.browser.get("/settings/outbox/").status_code == 403
    assert persona.browser.get(f"/settings/outbox/{message.pk}/").status_code == 403
    assert persona.browser.post(f"/settings/outbox/{message.pk}/retry/").status_code == 403
    assert Message.objects.get(pk=message.pk).status == MessageStatus.FAILED


def test_an_outsider_gets_404_and_sees_none_of_our_messages(owner, outsider):
    message = make_message(owner.workspace, MessageStatus.FAILED, 1, subject="Our secret renewal")
    assert outsider.browser.get(f"/settings/outbox/{message.pk}/").status_code == 404
    assert outsider.browser.post(f"/settings/outbox/{message.pk}/retry/").status_code == 404
    assert "Our secret renewal" not in outsider.browser.get("/settings/outbox/").content.decode()
    assert Message.objects.get(pk=message.pk).status == MessageStatus.FAILED


def test_the_settings_tabs_link_the_outbox(owner):
    body = owner.browser.get("/settings/members/").content.decode()
    assert 'href="/settings/outbox/">Outbox</a>' in body


def test_send_test_message_queues_one_to_the_admin_and_shows_it(owner):
    response = owner.browser.post("/settings/outbox/test/")
    message = Message.objects.get(workspace=owner.workspace)
    assert response.status_code == 302
    assert response.url == f"/settings/outbox/{message.pk}/"
    assert message.to == ["owner@acme.test"]
    assert message.source == "outbox.test"
    assert "email delivery works" in message.text
    assert Job.objects.filter(kind="outbox.deliver", payload__message_id=message.pk).exists()
    body = owner.browser.get(response.url).content.decode()
    assert "Test message queued for owner@acme.test" in body


def test_only_admins_send_test_messages(viewer, practitioner):
    assert viewer.browser.post("/settings/outbox/test/").status_code == 403
    assert practitioner.browser.post("/settings/outbox/test/").status_code == 403
    assert viewer.browser.get("/settings/outbox/test/").status_code in (403, 405)
    assert not Message.objects.exists()


def test_the_list_pages_newest_first_keeping_its_filter(owner):
    for n in range(51):
        queue_email(owner.workspace, to=["a@b.test"], subject=f"s{n}", text="t", key=f"pager-{n}")
    html = owner.browser.get("/settings/outbox/?status=queued").content.decode()
    assert "1–50 of 51 messages" in html
    assert 'href="?status=queued&amp;page=2">Older →' in html
    html = owner.browser.get("/settings/outbox/?page=2").content.decode()
    assert "51–51 of 51 messages" in html and 'href="?page=1">← Newer' in html
