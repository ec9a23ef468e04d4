"""send_email, call_webhook and post_slack against real things: an aiosmtpd server behind
the outbox's delivery job, local HTTP servers in threads (loopback allowed through
TEND_OUTGOING_ALLOW, as tend/lib/outgoing's tests do). Re-running a step run sends nothing
twice, the dry run writes nothing, bad config names the field through the plays API."""

import datetime
import json

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from tend.accounts.actions.accounts import update_account
from tend.accounts.actions.definitions.roles import create_role
from tend.accounts.models import Contact, EndUser
from tend.lib.outgoing import generate_secret, verify
from tend.lib.outgoing.tests.servers import HttpServer, Reply
from tend.outbox.models import Message
from tend.outbox.tests.conftest import Mailbox, free_port, run_jobs
from tend.plays import steps
from tend.plays.engine import account_context, run_key
from tend.plays.models import PlayRun, PlayRunStep, RunStatus, StepDelivery
from tend.plays.steps.base import Done, Fail, Retry, StepContext
from tend.plays.tests.conftest import enter, tag_play, tick
from tend.test import make_member

URL = "/api/v1/plays"


@pytest.fixture
def csm(owner, book):
    create_role(owner.actor, {"key": "csm", "name": "Success Manager"})
    sam = make_member(owner.workspace, email="sam@vendor.test", name="Sam Rivera")
    update_account(owner.actor, book["acme"], {"assignments": {"csm": "sam@vendor.test"}})
    return sam


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (the outbox tests' mailbox) that EMAIL_URL points at."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_URL = f"smtp://127.0.0.1:{port}?timeout=5"
    yield mailbox
    controller.stop()


@pytest.fixture
def loopback(settings):
    settings.TEND_OUTGOING_ALLOW = "127.0.0.1/32"


def run_play(owner, segment, account, step_list, **extra):
    play = tag_play(owner, segment, steps=step_list, **extra)
    enter(owner, segment, account)
    tick(owner.workspace)
    return play, PlayRun.objects.get(play=play, account=account)


def rerun(run, position=1):
    """The step run again with the same key, as after a worker died before recording it."""
    run = PlayRun.objects.select_related("play", "account__workspace", "account__stage").get(
        pk=run.pk
    )
    step = run.play.steps.get(position=position)
    kind = steps.get(step.kind)
    base = account_context(run.account, timezone.now())
    ctx = StepContext(
        account=run.account,
        now=base.now,
        matches=base.matches,
        config=steps.parse_config(kind, step.config, "config"),
        play=run.play,
        run=run,
        position=position,
        key=run_key(run, position),
    )
    return kind.run(ctx)


def post(client, url, data):
    return client.post(url, data=data, content_type="application/json")


# --- send_email --------------------------------------------------------------------------


EMAIL = {
    "kind": "send_email",
    "config": {
        "to_roles": ["csm"],
        "to_contacts": "key",
        "subject": "{{ account.name }} ({{ account.external_id }}) is {{ account.status }}",
        "body": "Hi,\n\n**{{ account.name }}** is on the *{{ account.attributes.plan }}* plan, "
        "stage {{ account.stage|default:'none' }}. Play: {{ play.name }}.",
    },
}


def test_send_email_reaches_the_csm_and_key_contacts_through_the_outbox(
    owner, book, static_segment, csm, smtp_server
):
    acme = book["acme"]
    Contact.objects.create(
        workspace=owner.workspace,
        account=acme,
        external_id="c1",
        name="Maya",
        email="maya@acme.test",
        is_key_contact=True,
    )
    Contact.objects.create(
        workspace=owner.workspace, account=acme, external_id="c2", name="Bob", email="bob@acme.test"
    )
    _, run = run_play(owner, static_segment, acme, [EMAIL])
    assert run.status == RunStatus.DONE, run.reason
    run_jobs()
    got = {r["rcpt_tos"][0]: r["message"] for r in smtp_server.received}
    assert sorted(got) == ["maya@acme.test", "sam@vendor.test"]  # not Bob: not a key contact
    mime = got["sam@vendor.test"]
    assert mime["Subject"] == "Acme (acme) is paying"
    assert "**Acme** is on the *enterprise* plan" in mime.get_body(("plain",)).get_content()
    assert "<strong>Acme</strong>" in mime.get_body(("html",)).get_content()
    assert "Play: Onboarding kickoff." in mime.get_body(("plain",)).get_content()
    log = PlayRunStep.objects.get(run=run)
    assert log.detail["recipients"] == 2 and log.reason.startswith("Queued 'Acme (acme) is paying'")

    # A re-run of the same step run (a worker killed before the run moved on) queues nothing.
    again = rerun(run)
    assert isinstance(again, Done) and sorted(again.detail["message_ids"]) == sorted(
        log.detail["message_ids"]
    )
    run_jobs()
    assert Message.objects.count() == 2 and len(smtp_server.received) == 2


def test_contacts_by_role_and_end_users_each_get_their_own_message(
    owner, book, static_segment, smtp_server
):
    acme = book["acme"]
    Contact.objects.create(
        workspace=owner.workspace,
        account=acme,
        external_id="c1",
        name="Eve",
        email="eve@acme.test",
        role="Economic buyer",
    )
    Contact.objects.create(
        workspace=owner.workspace,
        account=acme,
        external_id="c2",
        name="Ann",
        email="ann@acme.test",
        role="Admin",
    )
    Contact.objects.create(
        workspace=owner.workspace,
        account=acme,
        external_id="c3",
        name="Nomail",
        role="economic buyer",
    )
    EndUser.objects.create(
        workspace=owner.workspace, account=acme, external_id="u1", email="u1@acme.test"
    )
    config = {
        "to_contacts": "all",
        "contact_role": "economic buyer",
        "to_end_users": True,
        "subject": "Hello",
        "body": "Hi {{ account.name }}",
    }
    _, run = run_play(owner, static_segment, acme, [{"kind": "send_email", "config": config}])
    assert run.status == RunStatus.DONE
    run_jobs()
    assert sorted(r["rcpt_tos"] for r in smtp_server.received) == [
        ["eve@acme.test"],
        ["u1@acme.test"],
    ]
    log = PlayRunStep.objects.get(run=run)
    assert log.detail["skipped"] == ["contact Nomail has no email address"]


def test_no_recipient_is_a_permanent_failure_with_the_reason(owner, book, static_segment, csm):
    _, run = run_play(owner, static_segment, book["globex"], [EMAIL])
    assert run.status == RunStatus.FAILED
    log = PlayRunStep.objects.get(run=run)
    assert log.permanent and log.reason.startswith(
        "no recipient: no member holds csm on the account"
    )
    assert not Message.objects.exists()


def test_email_dry_run_renders_and_writes_nothing(owner, book, static_segment, csm):
    enter(owner, static_segment, book["acme"])
    play = post(
        owner.api,
        URL,
        {
            "name": "Mail",
            "trigger": {"kind": "segment_entered", "config": {"segment_id": static_segment.pk}},
            "steps": [EMAIL],
        },
    ).json()
    dry = post(owner.api, f"{URL}/{play['id']}/dry-run", {})
    assert dry.status_code == 200, dry.json()
    described = dry.json()["items"][0]["steps"][0]
    assert described["to"] == ["sam@vendor.test"]
    assert described["subject"] == "Acme (acme) is paying"
    assert "stage none. Play: ." in described["body"]  # no play run yet in a dry run
    assert not Message.objects.exists() and not PlayRun.objects.exists()


# --- call_webhook ------------------------------------------------------------------------


def test_webhook_delivers_a_signed_payload_once(owner, book, static_segment, loopback):
    secret = generate_secret()
    with HttpServer() as server:
        step = {
            "kind": "call_webhook",
            "config": {"url": server.url("/hooks/tend"), "secret": secret},
        }
        _, run = run_play(owner, static_segment, book["acme"], [step])
        assert run.status == RunStatus.DONE, run.reason
        [request] = server.requests
        event = json.loads(request.body)
        verify(secret, request.headers, request.body)  # raises when the signature is wrong
        assert request.headers["webhook-id"] == "msg_" + run_key(run, 1).replace(":", "_")
        assert event["type"] == "play.step"
        assert event["data"]["account"]["external_id"] == "acme"
        assert event["data"]["account"]["attributes"] == {"plan": "enterprise"}
        assert (
            event["data"]["run"]["id"] == run.pk
            and event["data"]["play"]["name"] == "Onboarding kickoff"
        )
        log = PlayRunStep.objects.get(run=run)
        assert log.detail["status_code"] == 200
        # Re-running the delivered step sends nothing.
        again = rerun(run)
        assert isinstance(again, Done) and "not sent again" in again.summary
        assert len(server.requests) == 1
    assert StepDelivery.objects.get().status == "delivered"


def test_webhook_retry_follows_retry_after_with_the_same_bytes_then_delivers(
    owner, book, static_segment, loopback
):
    replies = [Reply(503, b"busy", {"Retry-After": "120"}), Reply(200)]
    with HttpServer(lambda request: replies.pop(0)) as server:
        step = {"kind": "call_webhook", "config": {"url": server.url("/hook")}}
        play, run = run_play(owner, static_segment, book["acme"], [step])
        assert run.status == RunStatus.WAITING
        wait = (run.next_due_at - timezone.now()).total_seconds()
        assert 100 < wait <= 121  # Retry-After 120 s, longer than the schedule's first 5 s
        log = PlayRunStep.objects.get(run=run)
        assert log.outcome == "retry" and "503" in log.reason
        PlayRun.objects.filter(pk=run.pk).update(next_due_at=timezone.now())
        tick(owner.workspace)
        run.refresh_from_db()
        assert run.status == RunStatus.DONE
        first, second = server.requests
        assert (
            first.body == second.body
            and first.headers["webhook-id"] == second.headers["webhook-id"]
        )
    # The secret was generated when the play was saved, and signs every attempt.
    secret = play.steps.get().config["secret"]
    assert secret.startswith("whsec_")
    verify(secret, second.headers, second.body)


def test_webhook_retries_follow_the_outgoing_schedule_past_the_engines_five_attempts(
    owner, book, static_segment, loopback
):
    """The engine stops its own retries after 5 attempts (about 2½ h on the outgoing
    schedule); a webhook step follows the outgoing library's 8 attempts over about 27 h."""
    from tend.lib.outgoing import MAX_ATTEMPTS, RETRY_DELAYS
    from tend.plays.engine import MAX_STEP_ATTEMPTS

    with HttpServer(lambda request: Reply(503, b"down")) as server:
        step = {"kind": "call_webhook", "config": {"url": server.url("/hook")}}
        _, run = run_play(owner, static_segment, book["acme"], [step])
        waits = []
        for _ in range(MAX_ATTEMPTS - 1):
            assert run.status == RunStatus.WAITING
            waits.append(run.next_due_at - timezone.now())
            PlayRun.objects.filter(pk=run.pk).update(next_due_at=timezone.now())
            tick(owner.workspace)
            run.refresh_from_db()
    assert MAX_ATTEMPTS > MAX_STEP_ATTEMPTS
    assert len(server.requests) == MAX_ATTEMPTS
    # Each wait is the schedule's (plus at most a quarter of jitter): 5 s … 10 h.
    for wait, base in zip(waits, RETRY_DELAYS, strict=True):
        assert base * 0.99 <= wait <= base * 1.26
    assert run.status == RunStatus.FAILED
    assert f"gave up after {MAX_ATTEMPTS} attempts" in run.reason
    assert StepDelivery.objects.get().status == "failed"


@pytest.mark.parametrize(
    "reply,reason",
    [(Reply(404, b"no"), "404"), (Reply(410, b"gone"), "gone")],
)
def test_webhook_permanent_and_gone_fail_the_run(
    owner, book, static_segment, loopback, reply, reason
):
    with HttpServer(lambda request: reply) as server:
        step = {"kind": "call_webhook", "config": {"url": server.url("/hook")}}
        _, run = run_play(owner, static_segment, book["acme"], [step])
    assert run.status == RunStatus.FAILED
    log = PlayRunStep.objects.get(run=run)
    assert log.permanent and reason in log.reason
    assert isinstance(rerun(run), Fail)  # a failed delivery is not sent again either
    assert len(server.requests) == 1


def test_webhook_dry_run_sends_nothing(owner, book, static_segment, loopback):
    with HttpServer() as server:
        enter(owner, static_segment, book["acme"])
        play = tag_play(
            owner,
            static_segment,
            status="draft",
            steps=[{"kind": "call_webhook", "config": {"url": server.url("/hook")}}],
        )
        dry = post(owner.api, f"{URL}/{play.pk}/dry-run", {}).json()
        described = dry["items"][0]["steps"][0]
        assert described["url"] == server.url("/hook")
        assert described["payload"]["data"]["account"]["name"] == "Acme"
        assert server.requests == [] and not StepDelivery.objects.exists()


# --- post_slack --------------------------------------------------------------------------


def test_slack_posts_escaped_text_once_and_maps_errors(owner, book, static_segment, loopback):
    update_account(owner.actor, book["acme"], {"name": "<!channel> Acme"})
    replies = [Reply(429, b"rate_limited", {"Retry-After": "30"}), Reply(200, b"ok")]
    with HttpServer(lambda request: replies.pop(0)) as server:
        step = {
            "kind": "post_slack",
            "config": {
                "url": server.url("/services/T1/B2/x"),
                "text": ":rotating_light: *{{ account.name }}* entered",
            },
        }
        _, run = run_play(owner, static_segment, book["acme"], [step])
        assert run.status == RunStatus.WAITING
        assert "rate_limited" in PlayRunStep.objects.get(run=run).reason
        PlayRun.objects.filter(pk=run.pk).update(next_due_at=timezone.now())
        tick(owner.workspace)
        run.refresh_from_db()
        assert run.status == RunStatus.DONE
        sent = json.loads(server.requests[-1].body)
        assert sent["text"] == ":rotating_light: *&lt;!channel&gt; Acme* entered"
        assert isinstance(rerun(run), Done) and len(server.requests) == 2


def test_slack_refusal_is_permanent(owner, book, static_segment, loopback):
    with HttpServer(lambda request: Reply(404, b"channel_not_found")) as server:
        step = {
            "kind": "post_slack",
            "config": {"url": server.url("/services/T/B/x"), "text": "hi"},
        }
        _, run = run_play(owner, static_segment, book["acme"], [step])
    assert run.status == RunStatus.FAILED
    assert "channel_not_found" in PlayRunStep.objects.get(run=run).reason


def test_http_retry_mapping_uses_the_backoff_schedule():
    from tend.lib.outgoing import Outcome, Result
    from tend.plays.steps.messaging import http_result

    retry = http_result(Result(Outcome.RETRY, "503", 0.1, status_code=503), 2, "webhook", {})
    assert isinstance(retry, Retry)
    wait = retry.at - timezone.now()
    assert datetime.timedelta(minutes=4) < wait <= datetime.timedelta(minutes=6, seconds=16)
    assert isinstance(http_result(Result(Outcome.RETRY, "503", 0.1), 8, "webhook", {}), Fail)


# --- Config validation through the API ----------------------------------------------------


@pytest.mark.parametrize(
    "step,field",
    [
        ({"kind": "send_email", "config": {"subject": "s", "body": "b"}}, "steps.0.config"),
        (
            {"kind": "send_email", "config": {"to_roles": ["nope"], "subject": "s", "body": "b"}},
            "steps.0.config.to_roles.0",
        ),
        (
            {"kind": "send_email", "config": {"to_members": [999999], "subject": "s", "body": "b"}},
            "steps.0.config.to_members.0",
        ),
        (
            {
                "kind": "send_email",
                "config": {"to_end_users": True, "subject": "{% if %}", "body": "b"},
            },
            "steps.0.config.subject",
        ),
        (
            {
                "kind": "send_email",
                "config": {"to_end_users": True, "subject": "s", "body": "{% load x %}"},
            },
            "steps.0.config.body",
        ),
        (
            {"kind": "send_email", "config": {"to_contacts": "some", "subject": "s", "body": "b"}},
            "steps.0.config.to_contacts",
        ),
        (
            {"kind": "call_webhook", "config": {"url": "http://169.254.169.254/latest"}},
            "steps.0.config.url",
        ),
        (
            {
                "kind": "call_webhook",
                "config": {"url": "https://hooks.example.com/x", "secret": "abc"},
            },
            "steps.0.config.secret",
        ),
        (
            {
                "kind": "post_slack",
                "config": {"url": "https://example.com/services/x", "text": "hi"},
            },
            "steps.0.config.url",
        ),
        (
            {
                "kind": "post_slack",
                "config": {"url": "https://hooks.slack.com/services/T/B/x", "text": "{{ a|nope }}"},
            },
            "steps.0.config.text",
        ),
    ],
)
def test_bad_config_names_the_field_through_the_api(owner, book, static_segment, csm, step, field):
    answer = post(
        owner.api,
        URL,
        {
            "name": "Bad",
            "trigger": {"kind": "segment_entered", "config": {"segment_id": static_segment.pk}},
            "steps": [step],
        },
    )
    assert answer.status_code == 422, answer.json()
    assert answer.json()["errors"][0]["field"] == field


def test_the_webhook_secret_is_shown_to_editors_only(owner, viewer, book, static_segment):
    secret = generate_secret()
    play = tag_play(
        owner,
        static_segment,
        status="draft",
        steps=[
            {
                "kind": "call_webhook",
                "config": {"url": "https://hooks.example.com/t", "secret": secret},
            }
        ],
    )
    assert owner.api.get(f"{URL}/{play.pk}").json()["steps"][0]["config"]["secret"] == secret
    seen = viewer.api.get(f"{URL}/{play.pk}").json()["steps"][0]["config"]
    assert seen == {"url": "https://hooks.example.com/t", "secret": steps.HIDDEN}
    page = viewer.browser.get(f"/plays/{play.pk}/")
    assert page.status_code == 200 and secret not in page.content.decode()
    assert secret in owner.browser.get(f"/plays/{play.pk}/").content.decode()
