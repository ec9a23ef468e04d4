"""A real SMTP server (aiosmtpd) per test, scriptable to refuse, and helpers to run the
outbox's jobs the way a worker does."""

import socket
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from tend.jobs.models import Job, JobStatus
from tend.jobs.runner import Worker
from tend.outbox.models import Message


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """What the server received, and the replies it is told to give.

    ``rcpt_replies`` maps an address to the reply RCPT TO gets for it; ``data_replies`` is a
    list of replies DATA gives, one per message, before it goes back to accepting.
    """

    def __init__(self):
        self.received = []
        self.rcpt_replies: dict[str, str] = {}
        self.data_replies: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_replies:
            return self.data_replies.pop(0)
        self.received.append(
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "message": message_from_bytes(envelope.original_content, policy=policy.default),
            }
        )
        return f"250 2.0.0 Ok: queued as Q{len(self.received)}"


@pytest.fixture
def smtp_server(settings):
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_URL = f"smtp://127.0.0.1:{port}?timeout=5"
    mailbox.port = port
    yield mailbox
    controller.stop()


@pytest.fixture
def mail_dir(settings, tmp_path):
    """The development default: EMAIL_URL unset, files under a temporary TEND_MAIL_DIR."""
    settings.EMAIL_URL = ""
    settings.TEND_MAIL_DIR = tmp_path / "mail"
    return tmp_path / "mail"


def run_jobs() -> None:
    """Run every due job, as ``tend worker`` would, until none is due."""
    Worker(burst=True, poll_seconds=0).run()


def advance_to_next_attempt() -> None:
    """Make the outbox's waiting retries due now (their pause has 'passed')."""
    past = timezone.now() - timedelta(seconds=1)
    Job.objects.filter(kind="outbox.deliver", status=JobStatus.QUEUED).update(due_at=past)
    Message.objects.pending().update(next_attempt_at=past)


def queued_delivery_jobs(message) -> list[Job]:
    return list(
        Job.objects.filter(
            kind="outbox.deliver", status=JobStatus.QUEUED, payload__message_id=message.pk
        )
    )
