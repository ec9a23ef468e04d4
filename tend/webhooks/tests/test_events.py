"""Events are written in the same transaction as the change they report, only when some
consumer wants them, and by every app that owns an event type."""

import pytest
from django.db import transaction

from tend.accounts.actions.accounts import create_account, update_account
from tend.accounts.bulk.accounts import upsert_accounts
from tend.events import emit, registry
from tend.events.actions import dispatch, queue_stalled
from tend.events.models import Event
from tend.jobs.models import Job
from tend.webhooks.models import Delivery
from tend.webhooks.tests.helpers import make_subscription

pytestmark = pytest.mark.django_db

ALL = [t.key for t in registry.all_types()]


def types_of(workspace):
    return [e.type for e in Event.objects.filter(workspace=workspace).order_by("id")]


def test_nothing_is_written_when_no_webhook_listens(owner):
    create_account(owner.actor, {"external_id": "a", "name": "A"})
    assert not Event.objects.exists() and not Job.objects.filter(kind="events.dispatch").exists()


def test_only_the_subscribed_types_of_active_webhooks_are_written(owner, outsider):
    make_subscription(owner.workspace, types=["account.updated"])
    make_subscription(owner.workspace, types=["account.created"], status="paused")
    make_subscription(outsider.workspace, types=ALL)
    account = create_account(owner.actor, {"external_id": "a", "name": "A"})
    update_account(owner.actor, account, {"name": "A2"})
    [event] = Event.objects.filter(workspace=owner.workspace)
    assert event.type == "account.updated"
    assert event.data == {
        "account": {"id": account.pk, "external_id": "a", "name": "A2", "status": account.status},
        "source": "ui",
        "changed": ["name"],
    }
    assert not Event.objects.filter(workspace=outsider.workspace).exists()


def test_an_event_rolls_back_with_its_change(owner):
    make_subscription(owner.workspace, types=ALL)
    with pytest.raises(RuntimeError), transaction.atomic():
        create_account(owner.actor, {"external_id": "a", "name": "A"})
        raise RuntimeError("the request failed after the account was saved")
    assert not Event.objects.exists()
    assert not Job.objects.filter(kind="events.dispatch").exists()


def test_an_event_and_its_dispatch_job_commit_together(owner):
    make_subscription(owner.workspace, types=ALL)
    create_account(owner.actor, {"external_id": "a", "name": "A"})
    assert Event.objects.filter(dispatched_at__isnull=True).count() == 1
    job = Job.objects.get(kind="events.dispatch")
    assert job.payload == {"workspace_id": owner.workspace.pk}


def test_dispatch_makes_one_delivery_per_wanting_webhook_and_a_second_run_adds_none(owner):
    wants = make_subscription(owner.workspace, types=["account.created"])
    make_subscription(owner.workspace, url="https://other.example.com/", types=["task.created"])
    create_account(owner.actor, {"external_id": "a", "name": "A"})
    create_account(owner.actor, {"external_id": "b", "name": "B"})
    assert dispatch(owner.workspace.pk) == 2
    assert dispatch(owner.workspace.pk) == 0
    assert list(Delivery.objects.values_list("subscription_id", flat=True)) == [wants.pk] * 2
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()


def test_a_lost_dispatch_job_is_queued_again_by_the_sweep(owner):
    make_subscription(owner.workspace, types=ALL)
    create_account(owner.actor, {"external_id": "a", "name": "A"})
    Job.objects.filter(kind="events.dispatch").delete()  # failed for good, purged
    assert queue_stalled() == 0  # not stalled yet
    Event.objects.update(occurred_at=Event.objects.get().occurred_at.replace(year=2020))
    assert queue_stalled() == 1
    assert Job.objects.filter(kind="events.dispatch").count() == 1


def test_bulk_upserts_emit_created_and_updated(owner):
    make_subscription(owner.workspace, types=ALL)
    upsert_accounts(
        owner.actor, [{"external_id": "a", "name": "A"}, {"external_id": "b", "name": "B"}]
    )
    upsert_accounts(
        owner.actor,
        [{"external_id": "a", "name": "A", "status": "paying"}, {"external_id": "b", "name": "B"}],
    )
    events = list(Event.objects.order_by("id"))
    assert [e.type for e in events] == ["account.created", "account.created", "account.updated"]
    assert events[2].data["changed"] == ["status"]
    assert events[2].data["account"]["external_id"] == "a"


def test_tasks_emit_created_and_completed(owner):
    from tend.work.actions import complete_task, create_task

    account = create_account(owner.actor, {"external_id": "a", "name": "A"})
    make_subscription(owner.workspace, types=["task.created", "task.completed"])
    task = create_task(owner.actor, account, {"title": "Call"})
    complete_task(owner.actor, task)
    events = list(Event.objects.order_by("id"))
    assert [e.type for e in events] == ["task.created", "task.completed"]
    assert events[1].data["task"]["id"] == task.pk
    assert events[1].data["task"]["status"] == "done"


def test_segments_emit_entered_and_left(owner):
    from tend.segments.actions import create_segment
    from tend.segments.actions.membership import add_accounts, remove_accounts

    account = create_account(owner.actor, {"external_id": "a", "name": "A"})
    segment = create_segment(owner.actor, {"name": "VIP", "kind": "static", "visibility": "shared"})
    make_subscription(owner.workspace, types=["segment.entered", "segment.left"])
    add_accounts(owner.actor, segment, account_ids=[account.pk])
    remove_accounts(owner.actor, segment, account_ids=[account.pk])
    events = list(Event.objects.order_by("id"))
    assert [e.type for e in events] == ["segment.entered", "segment.left"]
    assert events[0].data["account"] == {"id": account.pk}
    assert events[0].data["segment"] == {"id": segment.pk, "name": "VIP"}


def test_health_scoring_emits_rank_changes(owner):
    from tend.health.actions.profiles import ensure_default_profile
    from tend.health.actions.scoring import score_workspace

    account = create_account(owner.actor, {"external_id": "a", "name": "A"})
    ensure_default_profile(owner.workspace)
    make_subscription(owner.workspace, types=["health.rank_changed"])
    score_workspace(owner.workspace)
    [event] = Event.objects.all()
    assert event.type == "health.rank_changed"
    assert event.data["account"] == {"id": account.pk}
    assert event.data["from_rank"] is None and event.data["to_rank"]


def test_a_failed_play_step_emits_play_step_failed(owner, settings):
    from tend.lib.outgoing.tests.servers import HttpServer, Reply
    from tend.plays.models import PlayRun, RunStatus
    from tend.plays.tests.conftest import enter, tag_play, tick
    from tend.segments.actions import create_segment

    account = create_account(owner.actor, {"external_id": "a", "name": "A"})
    segment = create_segment(owner.actor, {"name": "New", "kind": "static", "visibility": "shared"})
    settings.TEND_OUTGOING_ALLOW = "127.0.0.1/32"  # the receiver is on loopback
    with HttpServer(lambda request: Reply(404, b"no")) as server:
        step = {"kind": "call_webhook", "config": {"url": server.url("/hook")}}
        play = tag_play(owner, segment, steps=[step])
        make_subscription(owner.workspace, types=["play.step_failed"])
        enter(owner, segment, account)
        tick(owner.workspace)
    run = PlayRun.objects.get(play=play, account=account)
    assert run.status == RunStatus.FAILED
    [event] = Event.objects.filter(type="play.step_failed")
    assert event.data["run"] == {"id": run.pk}
    assert event.data["step"] == {"position": 1, "kind": "call_webhook"}
    assert "404" in event.data["reason"]


def test_emitting_an_unregistered_type_is_a_bug(owner):
    make_subscription(owner.workspace, types=ALL)
    with pytest.raises(registry.UnknownEventType):
        emit(owner.workspace.pk, "account.exploded", {})


def test_the_registry_refuses_malformed_and_conflicting_types():
    with pytest.raises(ValueError, match="lower-case"):
        registry.register("Account Created", "x", group="x", description="x")
    with pytest.raises(ValueError, match="already registered"):
        registry.register("account.created", "Something else", group="x", description="x")


def test_a_burst_of_events_is_dispatched_in_a_bounded_number_of_queries(
    owner, django_assert_max_num_queries
):
    make_subscription(owner.workspace, types=ALL)
    make_subscription(owner.workspace, url="https://two.example.com/", types=ALL)
    upsert_accounts(owner.actor, [{"external_id": f"a{n}", "name": f"A{n}"} for n in range(300)])
    # Inserts go in batches (SQLite's variable limit makes those ~60 deliveries each), never
    # one statement per delivery or job: 600 of each here.
    with django_assert_max_num_queries(40):
        assert dispatch(owner.workspace.pk) == 300
    assert Delivery.objects.count() == 600
    assert Job.objects.filter(kind="webhooks.deliver").count() == 600


def test_imports_emit_finished_and_failed_but_a_dry_run_emits_nothing(owner, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tend.hub import actions as hub
    from tend.hub.running import fail_import, run_import

    settings.TEND_IMPORT_DIR = tmp_path
    make_subscription(owner.workspace, types=["import.finished", "import.failed"])

    def run(text, *, dry_run=False):
        imp = hub.upload_file(
            owner.actor, SimpleUploadedFile("a.csv", text.encode()), object="account"
        )
        hub.set_mapping(owner.actor, imp, {"external_id": "external_id", "name": "name"})
        imp = hub.start_import(owner.actor, imp, dry_run=dry_run)
        run_import(imp.pk)
        return imp

    run("external_id,name\r\nd-1,Dry\r\n", dry_run=True)
    assert not Event.objects.exists()
    clean = run("external_id,name\r\nm-1,One\r\n")
    assert types_of(owner.workspace) == ["import.finished"]
    assert Event.objects.get().data["import"]["id"] == clean.pk
    partial = run("external_id,name\r\nm-2,\r\nm-3,Three\r\n")
    assert types_of(owner.workspace)[1:] == ["import.finished", "import.failed"]
    assert Event.objects.last().data["import"]["status"] == "partial"
    assert Event.objects.last().data["import"]["id"] == partial.pk
    broken = hub.upload_file(
        owner.actor, SimpleUploadedFile("b.csv", b"external_id,name\r\nx,X\r\n"), object="account"
    )
    hub.set_mapping(owner.actor, broken, {"external_id": "external_id", "name": "name"})
    broken = hub.start_import(owner.actor, broken, dry_run=False)
    fail_import(broken.pk, "FileNotFoundError: gone")
    last = Event.objects.last()
    assert last.type == "import.failed"
    assert last.data["import"]["status"] == "failed"
    assert last.data["import"]["error"] == "FileNotFoundError: gone"


def test_tasks_a_play_creates_for_many_runs_at_once_emit_task_created(owner):
    from tend.plays.tests.conftest import enter, tag_play, tick
    from tend.segments.actions import create_segment
    from tend.work.models import Task

    accounts = [
        create_account(owner.actor, {"external_id": f"a{n}", "name": f"A{n}"}) for n in range(3)
    ]
    segment = create_segment(owner.actor, {"name": "New", "kind": "static", "visibility": "shared"})
    config = {
        "title": "Kick off {{ account.name }}",
        "due_in_days": 3,
        "assignee_member_id": owner.member.pk,
    }
    step = {"kind": "create_task", "config": config}
    tag_play(owner, segment, steps=[step])
    make_subscription(owner.workspace, types=["task.created"])
    enter(owner, segment, *accounts)
    tick(owner.workspace)
    events = Event.objects.filter(type="task.created")
    assert sorted(e.data["task"]["id"] for e in events) == sorted(
        Task.objects.values_list("id", flat=True)
    )
    assert events.count() == 3
    tick(owner.workspace)  # nothing new: no second event
    assert Event.objects.filter(type="task.created").count() == 3
