"""queue_email: stored once, with its headers decided, a job per message, and a key that
makes a repeated call return the first message."""

import pytest
from django.db import transaction

from tend.jobs.models import Job
from tend.lib.errors import InvalidInput
from tend.outbox.actions import queue_email
from tend.outbox.models import Message, MessageStatus

pytestmark = pytest.mark.django_db


def send(workspace, **overrides):
    fields = dict(to=["maya@customer.test"], subject="Hello", text="Body")
    fields.update(overrides)
    return queue_email(workspace, **fields)


def test_a_queued_message_is_stored_with_its_headers_and_a_delivery_job(workspace):
    message = send(workspace, account_id=7, source="plays.send_email")
    assert message.status == MessageStatus.QUEUED
    names = [name for name, _ in message.headers]
    assert names == ["From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted"]
    assert dict(message.headers)["Message-ID"] == message.message_id
    assert message.account_id == 7
    [job] = Job.objects.filter(kind="outbox.deliver")
    assert job.payload == {"message_id": message.pk}
    assert job.workspace_id == workspace.pk


def test_the_same_key_returns_the_first_message_and_queues_nothing_more(workspace):
    first = send(workspace, key="play:3:run:9:step:2")
    again = send(workspace, key="play:3:run:9:step:2", subject="Different")
    assert again.pk == first.pk
    assert again.subject == "Hello"
    assert Message.objects.filter(workspace=workspace).count() == 1
    assert Job.objects.filter(kind="outbox.deliver").count() == 1


def test_keys_are_per_workspace(workspace, other_workspace):
    ours = send(workspace, key="k")
    theirs = send(other_workspace, key="k")
    assert ours.pk != theirs.pk


def test_a_message_queued_in_a_transaction_that_rolls_back_leaves_nothing(workspace):
    with pytest.raises(RuntimeError), transaction.atomic():
        send(workspace, key="k")
        raise RuntimeError("the caller's later step failed")
    assert not Message.objects.exists()
    assert not Job.objects.filter(kind="outbox.deliver").exists()
    assert send(workspace, key="k").key == "k"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"to": []}, "to", "needs at least one recipient"),
        ({"to": ["not an address"]}, "to", "'not an address' is not an email address"),
        ({"to": ["a@b.test", "nope"]}, "to.1", "'nope' is not an email address"),
        ({"to": ["a@b.test\r\nBcc: evil@x.test"]}, "to", "must not contain line breaks"),
        ({"cc": ["bad"]}, "cc", "'bad' is not an email address"),
        ({"reply_to": "bad"}, "reply_to", "'bad' is not an email address"),
        ({"subject": "  "}, "subject", "is empty"),
        ({"text": ""}, "text", "is empty"),
        ({"key": ""}, "key", "must be 1 to 200 characters"),
        (
            {"headers": {"List-Id": "a\r\nBcc: evil@x.test"}},
            "headers.List-Id",
            "must not contain line breaks",
        ),
        ({"headers": {"From": "x@y.test"}}, "headers.From", "is written by the outbox itself"),
        (
            {"headers": {"message-id": "<x@y>"}},
            "headers.message-id",
            "is written by the outbox itself",
        ),
        ({"headers": {"Bad Name": "x"}}, "headers", "'Bad Name' is not a header name"),
        ({"headers": {"X-Empty": " "}}, "headers.X-Empty", "must be non-empty text"),
        ({"headers": {"X-Long": "x" * 901}}, "headers.X-Long", "must be at most 900 characters"),
        ({"headers": {f"X-{n}": "v" for n in range(21)}}, "headers", "at most 20 headers"),
        ({"headers": "List-Id: x"}, "headers", "must be an object of header names and values"),
    ],
)
def test_bad_input_is_refused_naming_the_field(workspace, overrides, field, message):
    with pytest.raises(InvalidInput) as caught:
        send(workspace, **overrides)
    assert (caught.value.field, caught.value.message) == (field, message)
    assert not Message.objects.exists()


def test_line_breaks_in_a_subject_become_spaces(workspace):
    message = send(workspace, subject="Renewal\r\nin 60 days")
    assert message.subject == "Renewal in 60 days"
    assert dict(message.headers)["Subject"] == "Renewal in 60 days"


def test_extra_headers_are_stored_after_the_outbox_own_and_arrive(workspace, smtp_server):
    from tend.outbox.tests.conftest import run_jobs

    extra = {
        "List-Unsubscribe": "<https://tend.example.com/digest/unsubscribe/abc/>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    message = send(workspace, headers=extra)
    names = [name for name, _ in message.headers]
    assert names[-2:] == ["List-Unsubscribe", "List-Unsubscribe-Post"]
    assert names.index("Auto-Submitted") < names.index("List-Unsubscribe")
    run_jobs()
    [got] = smtp_server.received
    for name, value in extra.items():
        assert got["message"][name] == value
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_queue_emails_carries_extra_headers_and_refuses_bad_ones(workspace):
    from tend.outbox.actions import queue_emails

    item = {"to": ["a@b.test"], "subject": "S", "text": "T"}
    good, bad = queue_emails(
        workspace,
        [
            {**item, "key": "k1", "headers": [["List-Id", "Tend <digest.tend.example.com>"]]},
            {**item, "key": "k2", "headers": {"Subject": "x"}},
        ],
    )
    assert dict(good.headers)["List-Id"] == "Tend <digest.tend.example.com>"
    assert bad == "headers.Subject: is written by the outbox itself"
