"""Delivering to a real SMTP server: accepted, busy (4xx, retried), refused (5xx, final),
unreachable (retried), and the development default that keeps mail on disk."""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from tend.jobs.models import Job
from tend.outbox.actions import RETRY_DELAYS, deliver_message, queue_email, requeue_stalled
from tend.outbox.models import AttemptOutcome, DeliveryAttempt, Message, MessageStatus
from tend.outbox.tests.conftest import (
    advance_to_next_attempt,
    free_port,
    queued_delivery_jobs,
    run_jobs,
)

pytestmark = pytest.mark.django_db


def queue(workspace, **overrides):
    fields = dict(
        to=["Maya Patel <maya@customer.test>"],
        subject="Your onboarding kickoff",
        text="Hello Maya,\n\nLet's get started.\n",
        html="<p>Hello <strong>Maya</strong>,</p><p>Let's get started.</p>",
        source="tests",
    )
    fields.update(overrides)
    return queue_email(workspace, **fields)


def test_a_message_is_delivered_to_a_real_smtp_server_as_stored(workspace, smtp_server, settings):
    settings.DEFAULT_FROM_EMAIL = "cs@tend.example.com"
    message = queue(
        workspace, cc=["lead@customer.test"], reply_to="Sam <sam@vendor.test>", account_id=42
    )

    run_jobs()

    [received] = smtp_server.received
    assert received["mail_from"] == "cs@tend.example.com"
    assert received["rcpt_tos"] == ["maya@customer.test", "lead@customer.test"]
    mime = received["message"]
    assert mime["Subject"] == "Your onboarding kickoff"
    assert mime["From"] == "Acme CS <cs@tend.example.com>"
    assert mime["To"] == "Maya Patel <maya@customer.test>"
    assert mime["Cc"] == "lead@customer.test"
    assert mime["Reply-To"] == "Sam <sam@vendor.test>"
    assert mime["Message-ID"] == message.message_id
    assert message.message_id.endswith("@tend.example.com>")
    assert mime["Auto-Submitted"] == "auto-generated"
    assert mime.get_content_type() == "multipart/alternative"
    # Lines end in CRLF on the wire (RFC 5322).
    assert mime.get_body(("plain",)).get_content() == "Hello Maya,\r\n\r\nLet's get started.\r\n"
    assert "<strong>Maya</strong>" in mime.get_body(("html",)).get_content()

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.sent_at is not None
    assert message.attempts == 1
    [attempt] = message.attempt_log.all()
    assert attempt.outcome == AttemptOutcome.SENT
    assert attempt.smtp_code == 250
    assert "queued as Q1" in attempt.reply
    assert attempt.transport == f"smtp://127.0.0.1:{smtp_server.port}"
    assert not queued_delivery_jobs(message)


def test_a_text_only_message_is_sent_as_plain_text(workspace, smtp_server):
    queue(workspace, html=None, text="Plain body, café.\n")
    run_jobs()
    mime = smtp_server.received[0]["message"]
    assert mime.get_content_type() == "text/plain"
    assert mime.get_content() == "Plain body, café.\r\n"


def test_a_451_answer_is_retried_after_a_minute_and_then_delivered(workspace, smtp_server):
    smtp_server.data_replies = ["451 4.3.0 Mailbox busy, try again later"]
    message = queue(workspace)

    before = timezone.now()
    run_jobs()

    message.refresh_from_db()
    assert message.status == MessageStatus.RETRYING
    assert "451 4.3.0 Mailbox busy" in message.reason
    assert (
        before + timedelta(seconds=55)
        < message.next_attempt_at
        < timezone.now() + timedelta(seconds=65)
    )
    [job] = queued_delivery_jobs(message)
    assert job.due_at == message.next_attempt_at
    [first] = message.attempt_log.all()
    assert (first.outcome, first.smtp_code) == (AttemptOutcome.RETRY, 451)
    assert smtp_server.received == []

    run_jobs()  # not due yet: nothing happens
    assert Message.objects.get(pk=message.pk).attempts == 1

    advance_to_next_attempt()
    run_jobs()

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 2
    assert [a.outcome for a in message.attempt_log.order_by("number")] == [
        AttemptOutcome.RETRY,
        AttemptOutcome.SENT,
    ]
    assert len(smtp_server.received) == 1
    assert smtp_server.received[0]["message"]["Message-ID"] == message.message_id


def test_a_550_refusal_is_permanent_and_the_reply_is_in_the_log(workspace, smtp_server):
    smtp_server.rcpt_replies["maya@customer.test"] = (
        "550 5.1.1 <maya@customer.test>: Recipient address rejected"
    )
    message = queue(workspace)

    run_jobs()

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.failed_at is not None
    assert (
        message.reason
        == "550 5.1.1 <maya@customer.test>: Recipient address rejected (after RCPT TO maya@customer.test)"
    )
    [attempt] = message.attempt_log.all()
    assert (attempt.outcome, attempt.smtp_code) == (AttemptOutcome.FAILED, 550)
    assert "Recipient address rejected" in attempt.reply
    assert not queued_delivery_jobs(message)
    assert smtp_server.received == []


def test_a_554_answer_to_data_is_permanent(workspace, smtp_server):
    smtp_server.data_replies = ["554 5.7.1 Message rejected as spam"]
    message = queue(workspace)
    run_jobs()
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.reason.startswith("554 5.7.1 Message rejected as spam (after DATA)")


def test_one_refused_recipient_does_not_stop_the_others_and_is_named(workspace, smtp_server):
    smtp_server.rcpt_replies["gone@customer.test"] = "550 5.1.1 No such user"
    message = queue(workspace, to=["maya@customer.test", "gone@customer.test"])
    run_jobs()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert smtp_server.received[0]["rcpt_tos"] == ["maya@customer.test"]
    assert "Not delivered to gone@customer.test: 550 5.1.1 No such user" in message.reason


def test_a_refused_connection_is_retried(workspace, settings):
    settings.EMAIL_URL = f"smtp://127.0.0.1:{free_port()}?timeout=2"
    message = queue(workspace)

    run_jobs()

    message.refresh_from_db()
    assert message.status == MessageStatus.RETRYING
    assert "ConnectionRefusedError" in message.reason
    [attempt] = message.attempt_log.all()
    assert attempt.outcome == AttemptOutcome.RETRY
    assert attempt.smtp_code is None
    assert len(queued_delivery_jobs(message)) == 1


def test_a_server_that_greets_with_421_is_retried(workspace, settings):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    settings.EMAIL_URL = f"smtp://127.0.0.1:{listener.getsockname()[1]}?timeout=2"
    import threading

    def greet_and_close():
        conn, _ = listener.accept()
        conn.sendall(b"421 4.3.2 Service not available, closing channel\r\n")
        conn.close()

    thread = threading.Thread(target=greet_and_close, daemon=True)
    thread.start()
    message = queue(workspace)
    run_jobs()
    thread.join(5)
    listener.close()
    message.refresh_from_db()
    assert message.status == MessageStatus.RETRYING
    assert message.reason.startswith("421 4.3.2 Service not available")


def test_retries_stop_with_a_failure_after_the_last_pause_of_the_schedule(workspace, settings):
    assert sum(RETRY_DELAYS, timedelta()) >= timedelta(hours=24)
    settings.EMAIL_URL = f"smtp://127.0.0.1:{free_port()}?timeout=2"
    message = queue(workspace)
    for _ in range(len(RETRY_DELAYS)):
        run_jobs()
        advance_to_next_attempt()
    message.refresh_from_db()
    assert message.status == MessageStatus.RETRYING
    assert message.retries == len(RETRY_DELAYS)

    run_jobs()

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == len(RETRY_DELAYS) + 1
    assert message.reason.startswith(f"Gave up after {len(RETRY_DELAYS) + 1} attempts")
    assert "ConnectionRefusedError" in message.reason
    assert not queued_delivery_jobs(message)


def test_a_second_run_of_the_job_for_a_sent_message_sends_nothing(workspace, smtp_server):
    message = queue(workspace)
    job = Job.objects.get(kind="outbox.deliver", payload__message_id=message.pk)
    run_jobs()
    assert deliver_message(message.pk, claim=f"job:{job.pk}", job_id=job.pk) is None
    assert deliver_message(message.pk, claim="job:other") is None
    assert len(smtp_server.received) == 1
    assert DeliveryAttempt.objects.filter(message=message).count() == 1


def test_a_message_claimed_by_a_live_job_is_left_alone(workspace, smtp_server):
    message = queue(workspace)
    Message.objects.filter(pk=message.pk).update(
        claimed_by="job:elsewhere", claimed_until=timezone.now() + timedelta(minutes=5)
    )
    assert deliver_message(message.pk, claim="job:second") is None
    assert smtp_server.received == []


def test_an_attempt_cut_short_by_a_killed_worker_is_marked_and_the_message_sent_again(
    workspace, smtp_server
):
    """The worker died after the server may have accepted the data: the next attempt sends
    the same bytes (same Message-ID), and the log says what happened."""
    message = queue(workspace)
    job = Job.objects.get(kind="outbox.deliver", payload__message_id=message.pk)
    Message.objects.filter(pk=message.pk).update(
        attempts=1, claimed_by=f"job:{job.pk}", claimed_until=timezone.now() - timedelta(seconds=1)
    )
    DeliveryAttempt.objects.create(workspace=workspace, message=message, number=1, job_id=job.pk)

    deliver_message(message.pk, claim=f"job:{job.pk}", job_id=job.pk)

    first, second = message.attempt_log.order_by("number")
    assert first.outcome == AttemptOutcome.INTERRUPTED
    assert "same Message-ID" in first.reply
    assert second.outcome == AttemptOutcome.SENT
    assert smtp_server.received[0]["message"]["Message-ID"] == message.message_id


def test_without_email_url_messages_are_kept_on_disk_and_marked_sent(workspace, mail_dir):
    message = queue(workspace)
    run_jobs()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert (
        message.reason
        == f"kept as message-{message.pk}.eml; EMAIL_URL is not set, so nothing left this machine"
    )
    path = mail_dir / f"message-{message.pk}.eml"
    data = path.read_bytes()
    assert f"Message-ID: {message.message_id}".encode() in data
    assert b"Subject: Your onboarding kickoff" in data
    assert [p.name for p in mail_dir.iterdir()] == [path.name]  # no partial files left


def test_console_email_url_prints_the_message(workspace, settings, capfd):
    settings.EMAIL_URL = "console://"
    message = queue(workspace)
    run_jobs()
    assert f"Message-ID: {message.message_id}" in capfd.readouterr().out
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_an_invalid_email_url_is_a_retry_with_the_reason(workspace, settings):
    settings.EMAIL_URL = "smtp:/"
    message = queue(workspace)
    run_jobs()
    message.refresh_from_db()
    assert message.status == MessageStatus.RETRYING
    assert message.reason.startswith("EMAIL_URL is not valid: smtp:// needs a host")


def test_a_pending_message_whose_job_was_lost_gets_a_new_one(workspace, smtp_server):
    message = queue(workspace)
    Job.objects.filter(kind="outbox.deliver").delete()
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=10)
    )

    assert requeue_stalled() == 1
    assert requeue_stalled() == 0  # its job is queued now
    run_jobs()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_server_that_trickles_is_cut_off_at_the_deadline_and_retried(
    workspace, settings, monkeypatch
):
    """smtplib's timeout is per read; one byte every 0.2 s would hold it forever."""
    import threading
    import time

    from tend.outbox import delivery

    monkeypatch.setattr(delivery, "TOTAL_DEADLINE_SECONDS", 1)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    settings.EMAIL_URL = f"smtp://127.0.0.1:{listener.getsockname()[1]}?timeout=5"
    stop = threading.Event()

    def trickle():
        conn, _ = listener.accept()
        with conn:
            for byte in b"220-" + b"x" * 200:
                if stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.2)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    message = queue(workspace)
    started = time.monotonic()
    run_jobs()
    elapsed = time.monotonic() - started
    stop.set()
    thread.join(5)
    listener.close()
    message.refresh_from_db()
    assert elapsed < 4
    assert message.status == MessageStatus.RETRYING
    assert message.reason.startswith("gave up after 1 s")


def test_when_every_recipient_is_refused_a_4xx_among_them_means_retry(workspace, smtp_server):
    smtp_server.rcpt_replies["a@customer.test"] = "550 5.1.1 No such user"
    smtp_server.rcpt_replies["b@customer.test"] = "452 4.2.2 Mailbox full"
    message = queue(workspace, to=["a@customer.test", "b@customer.test"])
    run_jobs()
    message.refresh_from_db()
    assert message.status == MessageStatus.RETRYING
    assert message.reason == (
        "Every recipient was refused (RCPT TO) — a@customer.test: 550 5.1.1 No such user; "
        "b@customer.test: 452 4.2.2 Mailbox full"
    )
    assert message.attempt_log.get().smtp_code == 452


def test_a_file_email_url_writes_eml_files_there(workspace, settings, tmp_path):
    settings.EMAIL_URL = f"file://{tmp_path}/spool"
    message = queue(workspace)
    run_jobs()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.reason == f"written to {tmp_path}/spool/message-{message.pk}.eml"
    assert (
        b"Subject: Your onboarding kickoff"
        in (tmp_path / "spool" / f"message-{message.pk}.eml").read_bytes()
    )
