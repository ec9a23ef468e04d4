"""The digest goes through the outbox and arrives at a real SMTP server, once a day."""

import pytest

from tend.digest.actions import save_settings, send_digest
from tend.digest.models import DigestRun
from tend.digest.tokens import unsubscribe_token
from tend.jobs.registry import enqueue
from tend.outbox.models import Message
from tend.outbox.tests.conftest import run_jobs
from tend.work.models import Task

pytestmark = pytest.mark.django_db


def test_the_digest_arrives_at_the_smtp_server_once_a_day(
    world, practitioner, owner, smtp_server, settings
):
    settings.TEND_BASE_URL = "https://tend.example.com"
    me = world["me"]
    save_settings(me, enabled=True, hour=0)  # due whatever the hour of the test run
    for other in (owner.member, world["someone"]):  # they have digests of their own
        save_settings(other, enabled=False, hour=0)
    enqueue("digest.send_due")
    run_jobs()
    assert len(smtp_server.received) == 1
    got = smtp_server.received[0]
    assert got["rcpt_tos"] == ["practitioner@acme.test"]
    assert got["message"]["Subject"].startswith("Your Tend digest for ")
    text = got["message"].get_body(("plain",)).get_content()
    assert "Call about the renewal" in text and "Send the kickoff deck" in text
    assert f"https://tend.example.com/accounts/{world['acme'].pk}/" in text
    assert f"https://tend.example.com/digest/unsubscribe/{unsubscribe_token(me)}/" in text
    html = got["message"].get_body(("html",)).get_content()
    assert "Send the kickoff deck" in html
    # RFC 8058 one-click unsubscribe: the header names the same link, and a mail client's
    # POST to it, with no session and no CSRF token, turns the digest off.
    link = f"https://tend.example.com/digest/unsubscribe/{unsubscribe_token(me)}/"
    assert got["message"]["List-Unsubscribe"] == f"<{link}>"
    assert got["message"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    from django.test import Client

    from tend.digest.models import DigestSetting

    clicked = Client(enforce_csrf_checks=True).post(
        link.removeprefix("https://tend.example.com"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert clicked.status_code == 200
    assert DigestSetting.objects.get(member=me).enabled is False
    save_settings(me, enabled=True, hour=0)

    # The scheduler's job runs again (and again): nothing more is sent that day.
    enqueue("digest.send_due")
    run_jobs()
    enqueue("digest.send", {"member_id": me.pk}, workspace_id=me.workspace_id)
    run_jobs()
    assert len(smtp_server.received) == 1
    assert Message.objects.filter(source="digest").count() == 1
    assert DigestRun.objects.filter(member=me).count() == 1


def test_a_lost_run_row_still_sends_once_by_the_outbox_key(world, smtp_server):
    me = world["me"]
    first = send_digest(me)
    DigestRun.objects.all().delete()  # as if the row were lost
    send_digest(me)
    assert Message.objects.filter(source="digest").count() == 1
    assert first.message_id == Message.objects.get(source="digest").pk


def test_nothing_is_sent_on_a_day_with_nothing_to_say(workspace, practitioner, smtp_server):
    run = send_digest(practitioner.member)
    run_jobs()
    assert run is not None and run.message_id is None and run.items == 0
    assert smtp_server.received == []


def test_a_member_who_turned_it_off_gets_nothing(world, owner, smtp_server):
    for member in (world["me"], world["someone"], owner.member):
        save_settings(member, enabled=False, hour=0)
    enqueue("digest.send_due")
    run_jobs()
    assert smtp_server.received == [] and not DigestRun.objects.exists()


def test_a_queued_send_job_respects_a_later_unsubscribe(world, smtp_server):
    me = world["me"]
    enqueue("digest.send", {"member_id": me.pk}, workspace_id=me.workspace_id)
    save_settings(me, enabled=False, hour=8)
    run_jobs()
    assert smtp_server.received == []
    assert Task.objects.filter(assignee=me).count() == 4  # the world is intact
