"""A play over 1,000 accounts survives workers killed with SIGKILL again and again: every
run ends done, nothing is stuck, and each step's effect happened exactly once per run (the
idempotency key), however often a step ran again after a kill. The play records an effect,
creates a task, sends an email through the outbox and calls a webhook on a local server:
one task and one outbox message per account, one delivery row per run, every webhook
received (a repeat only ever under the same ``webhook-id``, which the receiver drops)."""

import random
import signal
import time

import pytest
from django.db import transaction
from django.utils import timezone

from tend.accounts.actions.definitions.roles import create_role
from tend.accounts.models import Account, Assignment, AssignmentRole
from tend.jobs.registry import enqueue
from tend.jobs.tests.processes import start, wait_for
from tend.lib.outgoing.tests.servers import HttpServer
from tend.outbox.models import Message
from tend.plays.actions import create_play, set_status
from tend.plays.engine import ADVANCE_JOB, run_key
from tend.plays.models import OPEN_RUN_STATUSES, PlayRun, PlayRunStep, RunStatus, StepDelivery
from tend.plays.polling import poll_workspace
from tend.plays.steps.messaging import webhook_id
from tend.plays.tests import sample_steps
from tend.segments.actions import create_segment
from tend.segments.actions.membership import add_accounts
from tend.test import make_member
from tend.work.models import Task

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ACCOUNTS = 1000
KILLS = 8


@pytest.fixture
def effects():
    sample_steps.create_table()
    sample_steps.register()
    yield sample_steps.read_effects
    sample_steps.drop_table()


def start_worker(log, mail):
    return start(
        ["tend.plays.tests.worker_process", "--poll", "0.05"],
        log,
        TEND_OUTGOING_ALLOW="127.0.0.1/32",  # the local webhook receiver
        EMAIL_URL=f"file://{mail}",
    )


def ask_for_advance(workspace_id):
    """What the scheduler does every 5 seconds while runs are due."""
    with transaction.atomic():
        enqueue(ADVANCE_JOB, {"workspace_id": workspace_id}, workspace_id=workspace_id, unique_key=f"{ADVANCE_JOB}:{workspace_id}")


def test_a_play_over_1000_accounts_survives_repeated_sigkill(owner, effects, tmp_path, settings):
    settings.TEND_OUTGOING_ALLOW = "127.0.0.1/32"
    ws = owner.workspace
    now = timezone.now()
    Account.objects.bulk_create(
        [Account(workspace=ws, external_id=f"a-{i:04d}", name=f"Account {i}", created_at=now, updated_at=now) for i in range(ACCOUNTS)]
    )
    create_role(owner.actor, {"key": "csm", "name": "Success Manager"})
    sam = make_member(ws, email="sam@vendor.test", name="Sam Rivera")
    role = AssignmentRole.objects.get(workspace=ws, key="csm")
    ids = list(Account.objects.filter(workspace=ws).values_list("pk", flat=True))
    Assignment.objects.bulk_create([Assignment(workspace=ws, account_id=pk, role=role, member=sam) for pk in ids])
    segment = create_segment(owner.actor, {"name": "New customers", "kind": "static", "visibility": "shared"})
    with HttpServer() as receiver:
        play = create_play(
            owner.actor,
            {
                "name": "Kickoff",
                "trigger": {"kind": "segment_entered", "config": {"segment_id": segment.pk}},
                # Task and email: runs move through them together (run_many, in the
                # engine's shared transaction); the effect and the webhook: run by run.
                "steps": [
                    {"kind": "create_task", "config": {"title": "Kickoff with {{ account.name }}", "assignee_role": "csm"}},
                    {"kind": "send_email", "config": {"to_roles": ["csm"], "subject": "{{ account.name }} is new", "body": "Say hello."}},
                    {"kind": "tests_record_effect", "config": {}},
                    {"kind": "call_webhook", "config": {"url": receiver.url("/hook")}},
                ],
            },
        )
        set_status(owner.actor, play, "active", backfill=False)
        add_accounts(owner.actor, segment, account_ids=ids)
        poll_workspace(ws)
        assert PlayRun.objects.filter(play=play).count() == ACCOUNTS
        ask_for_advance(ws.pk)

        seed = random.randrange(1_000_000)
        rng = random.Random(seed)
        log, mail = tmp_path / "workers.log", tmp_path / "mail"
        held = 0
        for kill in range(KILLS):
            worker = start_worker(log, mail)
            wait_for(lambda n=kill + 1: log.exists() and log.read_bytes().count(b" started") >= n, timeout=30, what="the worker to start")
            time.sleep(rng.uniform(0.3, 1.5))
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            held += PlayRun.objects.filter(play=play, locked_by__gt="", status__in=OPEN_RUN_STATUSES).count()
            ask_for_advance(ws.pk)
        done_while_killing = PlayRun.objects.filter(play=play, status=RunStatus.DONE).count()

        last_log = tmp_path / "last.log"
        last = start_worker(last_log, mail)
        try:
            def finished():
                ask_for_advance(ws.pk)  # the scheduler's part: due runs get an advance job
                return PlayRun.objects.filter(play=play, status=RunStatus.DONE).count() == ACCOUNTS

            wait_for(finished, timeout=400, interval=1.0, what=f"every run to finish (seed {seed}, log {log})")
        finally:
            last.send_signal(signal.SIGTERM)
            last.wait(timeout=15)
        received = [r.headers["webhook-id"] for r in receiver.requests]

    assert done_while_killing > 0, f"the killed workers should have made progress (seed {seed})"
    assert not PlayRun.objects.filter(play=play, status__in=OPEN_RUN_STATUSES).exists()
    runs = list(PlayRun.objects.filter(play=play))
    done = effects()
    # Exactly one effect per run's step, however often the step ran.
    assert set(done) == {run_key(r, 3) for r in runs}
    # One task and one outbox message per account, each under its step run's key.
    tasks = list(Task.objects.filter(play_id=play.pk).values_list("account_id", "key"))
    assert sorted(tasks) == sorted((r.account_id, run_key(r, 1)) for r in runs)
    messages = list(Message.objects.filter(workspace=ws, source=f"play:{play.pk}").values_list("account_id", flat=True))
    assert sorted(messages) == sorted(ids)
    # One delivery row per run, delivered; the receiver got every run's webhook id, and any
    # repeat (a worker killed between sending and recording) carried the same id.
    deliveries = StepDelivery.objects.filter(run__play=play)
    assert sorted(deliveries.values_list("key", flat=True)) == sorted(run_key(r, 4) for r in runs)
    assert set(deliveries.values_list("status", flat=True)) == {"delivered"}
    assert set(received) == {webhook_id(run_key(r, 4)) for r in runs}
    # One "done" log row per run and step: a late worker never logs twice.
    assert PlayRunStep.objects.filter(run__play=play, outcome="done").count() == 4 * ACCOUNTS
    print(f"seed {seed}: {held} kills held a run, {done_while_killing} done while killing, "
          f"{sum(done.values()) - ACCOUNTS} effects and {len(received) - ACCOUNTS} webhooks repeated")
