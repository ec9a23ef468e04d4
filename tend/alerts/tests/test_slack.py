"""A rule's Slack channel gets one escaped post per change, through a job; a transient
failure is retried, a posted firing is never posted again."""

import json

import pytest

from tend.accounts.actions.accounts import update_account
from tend.alerts.engine import poll_workspace
from tend.alerts.models import AlertFiring
from tend.health.actions.scoring import score_workspace
from tend.jobs.models import Job
from tend.lib.errors import InvalidInput
from tend.lib.outgoing.tests.servers import HttpServer, Reply
from tend.outbox.tests.conftest import run_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def loopback(settings):
    settings.TEND_OUTGOING_ALLOW = "127.0.0.1/32"


def test_a_change_is_posted_to_slack_once_escaped(owner, acme, make_rule, loopback):
    update_account(owner.actor, acme, {"name": "<!channel> Acme"})
    replies = [Reply(500, b"oops"), Reply(200, b"ok")]
    with HttpServer(lambda request: replies.pop(0)) as server:
        make_rule(followers=False, in_app=False, slack_url=server.url("/services/T/B/x"))
        score_workspace(owner.workspace)
        assert poll_workspace(owner.workspace)["sent"] == 1
        run_jobs()
        firing = AlertFiring.objects.get(recipient="slack")
        assert "500" in firing.outcome  # retried later, not lost
        Job.objects.filter(kind="alerts.post_slack").update(due_at="2000-01-01T00:00Z")
        run_jobs()
        firing.refresh_from_db()
        assert firing.outcome == "posted"
        text = json.loads(server.requests[-1].body)["text"]
        assert text.startswith("*Health turned Poor*: &lt;!channel&gt; Acme — health rank changed")
        Job.objects.create(kind="alerts.post_slack", payload={"firing_id": firing.pk}, due_at="2000-01-01T00:00Z")
        run_jobs()
        assert len(server.requests) == 2


def test_a_slack_url_that_is_not_slack_is_refused(owner, make_rule):
    with pytest.raises(InvalidInput) as raised:
        make_rule(slack_url="https://example.com/hook")
    assert raised.value.field == "slack_url"
