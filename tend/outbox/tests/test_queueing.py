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
