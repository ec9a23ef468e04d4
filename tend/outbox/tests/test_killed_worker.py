"""The documented duplicate window, for real: a worker SIGKILLed while the server holds its
answer to DATA. The message is sent again by the next worker, with the same Message-ID, and
the log shows the first attempt as interrupted. Nothing is lost or left stuck."""

import asyncio
import signal
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from tend.jobs.models import Job, JobStatus
from tend.jobs.tests.processes import start, wait_for
from tend.outbox.actions import queue_email
from tend.outbox.models import AttemptOutcome, Message, MessageStatus
from tend.outbox.tests.conftest import Mailbox, free_port, run_jobs

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class HoldingMailbox(Mailbox):
    """Takes the message, then waits ``hold`` seconds before answering 250."""

    hold = 0.0

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.hold)
        return reply


def test_a_worker_killed_after_the_server_took_the_data_leads_to_one_resend_with_the_same_id(
    workspace, settings, tmp_path
):
    mailbox = HoldingMailbox()
    mailbox.hold = 30
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    url = f"smtp://127.0.0.1:{port}?timeout=5"
    settings.EMAIL_URL = url
    try:
        message = queue_email(
            workspace, to=["maya@customer.test"], subject="Once, ideally", text="Hi\n"
        )
        worker = start(
            ["tend.jobs.tests.worker_process", "--poll", "0.05"],
            tmp_path / "worker.log",
            EMAIL_URL=url,
        )
        try:
            wait_for(lambda: mailbox.received, timeout=60, what="the server to receive the message")
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)

        message.refresh_from_db()
        assert message.status == MessageStatus.QUEUED
        assert message.attempt_log.get().outcome == AttemptOutcome.IN_PROGRESS
        # The killed worker's lease runs out (sooner than its 3 minutes, for the test).
        Job.objects.filter(kind="outbox.deliver", status=JobStatus.RUNNING).update(
            locked_until=timezone.now() - timedelta(seconds=1)
        )
        mailbox.hold = 0

        run_jobs()

        message.refresh_from_db()
        assert message.status == MessageStatus.SENT
        log = list(message.attempt_log.order_by("number"))
        assert [a.outcome for a in log] == [AttemptOutcome.INTERRUPTED, AttemptOutcome.SENT]
        assert "same Message-ID" in log[0].reply
        ids = [r["message"]["Message-ID"] for r in mailbox.received]
        assert ids == [message.message_id, message.message_id]
        assert not Message.objects.pending().exists()
        assert (
            not Job.objects.filter(kind="outbox.deliver")
            .exclude(status=JobStatus.SUCCEEDED)
            .exists()
        )
    finally:
        controller.stop()
