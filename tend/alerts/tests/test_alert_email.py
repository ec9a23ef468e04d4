"""Alert emails go through the outbox and arrive at a real SMTP server."""

import pytest

from tend.alerts.actions import follow
from tend.alerts.engine import poll_workspace
from tend.health.actions.scoring import score_workspace
from tend.outbox.models import Message
from tend.outbox.tests.conftest import run_jobs

pytestmark = pytest.mark.django_db


def test_an_alert_email_arrives_at_the_smtp_server_once(owner, practitioner, acme, make_rule, smtp_server, settings):
    settings.TEND_BASE_URL = "https://tend.example.com"
    follow(practitioner.member, account=acme)
    make_rule(email=True, in_app=False)
    score_workspace(owner.workspace)
    poll_workspace(owner.workspace)
    run_jobs()
    assert len(smtp_server.received) == 1
    got = smtp_server.received[0]
    assert got["rcpt_tos"] == [practitioner.member.user.email]
    assert got["message"]["Subject"] == "Health turned Poor: Acme Corp"
    assert f"https://tend.example.com/accounts/{acme.pk}/" in got["message"].get_body(("plain",)).get_content()
    # Read again: the outbox key holds it to one message.
    from tend.alerts.models import AlertFiring, AlertRule

    AlertFiring.objects.all().delete()
    AlertRule.objects.update(trigger_cursor=0)
    poll_workspace(owner.workspace)
    run_jobs()
    assert Message.objects.count() == 1 and len(smtp_server.received) == 1
