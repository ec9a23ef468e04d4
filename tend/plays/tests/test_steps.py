"""Each built-in step kind, its config validation, and the engine's handling of results:
re-runs are idempotent, transient failures are retried, permanent ones stop the run."""

import datetime

import pytest
from django.utils import timezone

from tend.accounts.actions.definitions.stages import create_stage
from tend.accounts.models import AccountTag
from tend.events.actions import add_consumer, remove_consumer
from tend.events.models import Event
from tend.lib.errors import InvalidInput
from tend.plays import steps
from tend.plays.actions import set_status
from tend.plays.engine import advance, claim_due, run_key
from tend.plays.models import PlayRun, PlayRunStep, RunStatus
from tend.plays.steps.base import Retry, StepKind
from tend.plays.tests.conftest import enter, tag_play, tick
from tend.segments.actions import create_segment
from tend.segments.models import SegmentMember


@pytest.fixture
def account_events():
    """A consumer that wants account.updated, so the events are recorded (with no consumer
    interested, emitting writes nothing)."""
    add_consumer("test-steps", interest=lambda workspace_id: {"account.updated"}, consume=list)
    yield
    remove_consumer("test-steps")


def updates_of(account) -> list[tuple[str, list[str]]]:
    """The account.updated events of ``account``: (source, changed fields), oldest first."""
    events = Event.objects.filter(workspace_id=account.workspace_id, type="account.updated")
    return [
        (e.data["source"], e.data["changed"])
        for e in events.order_by("id")
        if e.data["account"]["id"] == account.pk
    ]


def run_for(owner, segment, account, step_list, **extra):
    play = tag_play(owner, segment, steps=step_list, **extra)
    enter(owner, segment, account)
    tick(owner.workspace)
    return play, PlayRun.objects.get(play=play, account=account)


def test_add_then_remove_tag(owner, book, static_segment, account_events):
    _, run = run_for(
        owner,
        static_segment,
        book["acme"],
        [
            {"kind": "add_tag", "config": {"tag": "vip"}},
            {"kind": "add_tag", "config": {"tag": "temp"}},
            {"kind": "remove_tag", "config": {"tag": "temp"}},
        ],
    )
    assert run.status == RunStatus.DONE
    assert set(
        AccountTag.objects.filter(account=book["acme"]).values_list("tag__name", flat=True)
    ) == {"vip"}
    # Each change is an account.updated event (webhooks), from the play: three here.
    assert updates_of(book["acme"]) == [("play", ["tags"])] * 3


def test_set_attribute_and_stage(owner, book, static_segment, account_events):
    create_stage(owner.actor, {"name": "Renewal"})
    _, run = run_for(
        owner,
        static_segment,
        book["acme"],
        [
            {"kind": "set_attribute", "config": {"key": "plan", "value": "pro"}},
            {"kind": "set_stage", "config": {"stage": "Renewal"}},
        ],
    )
    book["acme"].refresh_from_db()
    assert book["acme"].attributes["plan"] == "pro" and book["acme"].stage.name == "Renewal"
    assert [r.detail.get("to") for r in PlayRunStep.objects.filter(run=run)] == ["pro", "Renewal"]
    assert updates_of(book["acme"]) == [("play", ["attributes"]), ("play", ["stage"])]


def test_add_to_and_remove_from_a_static_segment(owner, book, static_segment):
    target = create_segment(
        owner.actor, {"name": "Kicked off", "kind": "static", "visibility": "shared"}
    )
    _, run = run_for(
        owner,
        static_segment,
        book["acme"],
        [{"kind": "add_to_segment", "config": {"segment_id": target.pk}}],
    )
    assert SegmentMember.objects.filter(segment=target, account=book["acme"]).exists()
    _, run2 = run_for(
        owner,
        static_segment,
        book["globex"],
        [{"kind": "remove_from_segment", "config": {"segment_id": target.pk}}],
        name="Second",
    )
    # globex entered the trigger segment, so the first play added it and the second removed it.
    assert PlayRunStep.objects.get(run=run2).detail["status"] == "removed"
    assert not SegmentMember.objects.filter(segment=target, account=book["globex"]).exists()


def test_wait_holds_the_run_and_the_next_step_runs_when_due(owner, book, static_segment):
    play, run = run_for(
        owner,
        static_segment,
        book["acme"],
        [
            {"kind": "wait", "config": {"days": 3}},
            {"kind": "add_tag", "config": {"tag": "later"}},
        ],
    )
    assert run.status == RunStatus.WAITING and run.current_position == 2
    assert run.next_due_at - run.started_at >= datetime.timedelta(days=3) - datetime.timedelta(
        seconds=5
    )
    assert not AccountTag.objects.filter(account=book["acme"]).exists()
    PlayRun.objects.filter(pk=run.pk).update(next_due_at=timezone.now())
    tick(owner.workspace)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert AccountTag.objects.filter(account=book["acme"], tag__name="later").exists()


def test_branch_jumps_to_then_or_else(owner, book, static_segment):
    branch = {
        "kind": "branch",
        "config": {
            "condition": {"field": "attributes.plan", "op": "eq", "value": "enterprise"},
            "then_position": 2,
            "else_position": 3,
        },
    }
    step_list = [
        branch,
        {"kind": "add_tag", "config": {"tag": "big"}},
        {"kind": "add_tag", "config": {"tag": "small"}},
    ]
    play = tag_play(
        owner,
        static_segment,
        steps=[
            branch,
            {"kind": "add_tag", "config": {"tag": "big"}},
            {"kind": "branch", "config": {"condition": {"all": []}, "then_position": 0}},
            {"kind": "add_tag", "config": {"tag": "small"}},
        ],
    )
    enter(owner, static_segment, book["acme"], book["globex"])
    tick(owner.workspace)
    assert list(
        AccountTag.objects.filter(account=book["acme"]).values_list("tag__name", flat=True)
    ) == ["big"]
    # globex: else → step 3, a branch that matches everything and ends the run.
    assert (
        list(AccountTag.objects.filter(account=book["globex"]).values_list("tag__name", flat=True))
        == []
    )
    assert step_list and PlayRun.objects.filter(play=play, status=RunStatus.DONE).count() == 2


def test_branches_may_only_jump_forward(owner, static_segment, book):
    with pytest.raises(InvalidInput) as caught:
        tag_play(
            owner,
            static_segment,
            status="draft",
            steps=[
                {"kind": "add_tag", "config": {"tag": "a"}},
                {"kind": "branch", "config": {"condition": {"all": []}, "then_position": 1}},
            ],
        )
    assert caught.value.field == "steps.1.config.then_position"


@pytest.mark.parametrize(
    "step,field",
    [
        ({"kind": "nope", "config": {}}, "steps.0.kind"),
        ({"kind": "add_tag", "config": {}}, "steps.0.config.tag"),
        ({"kind": "add_tag", "config": {"tag": "a", "extra": 1}}, "steps.0.config.extra"),
        ({"kind": "set_attribute", "config": {"key": "missing", "value": 1}}, "steps.0.config.key"),
        ({"kind": "set_stage", "config": {"stage": "Nowhere"}}, "steps.0.config.stage"),
        ({"kind": "wait", "config": {}}, "steps.0.config"),
        ({"kind": "wait", "config": {"until_attribute": "plan"}}, "steps.0.config.until_attribute"),
    ],
)
def test_bad_step_config_names_the_field(owner, book, static_segment, step, field):
    with pytest.raises(InvalidInput) as caught:
        tag_play(owner, static_segment, status="draft", steps=[step])
    assert caught.value.field == field


class Flaky(StepKind):
    """A test step: fails transiently ``fail_times`` times, counting each side effect by key."""

    kind = "test_flaky"
    label = "Flaky"
    effects: dict = {}
    fail_times = 0

    def run(self, ctx):
        if ctx.attempt <= self.fail_times:
            return Retry("the far side answered 503")
        # An idempotent side effect: keyed by ctx.key, so a re-run changes nothing.
        Flaky.effects.setdefault(ctx.key, 0)
        Flaky.effects[ctx.key] = 1
        return __import__("tend.plays.steps.base", fromlist=["Done"]).Done(
            "did it", {"key": ctx.key}
        )


@pytest.fixture
def flaky():
    steps.kinds()
    steps._kinds["test_flaky"] = Flaky()
    Flaky.effects = {}
    Flaky.fail_times = 0
    yield Flaky
    steps._kinds.pop("test_flaky", None)


def test_a_transient_failure_is_retried_and_logged(owner, book, static_segment, flaky):
    flaky.fail_times = 1
    play, run = run_for(owner, static_segment, book["acme"], [{"kind": "test_flaky", "config": {}}])
    assert run.status == RunStatus.WAITING
    entry = PlayRunStep.objects.get(run=run)
    assert (entry.outcome, entry.permanent, entry.reason) == (
        "retry",
        False,
        "the far side answered 503",
    )
    PlayRun.objects.filter(pk=run.pk).update(next_due_at=timezone.now())
    tick(owner.workspace)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert list(PlayRunStep.objects.filter(run=run).values_list("attempt", "outcome")) == [
        (1, "retry"),
        (2, "done"),
    ]


def test_a_step_failing_every_attempt_fails_the_run_permanently(owner, book, static_segment, flaky):
    flaky.fail_times = 99
    play, run = run_for(owner, static_segment, book["acme"], [{"kind": "test_flaky", "config": {}}])
    for _ in range(6):
        PlayRun.objects.filter(pk=run.pk).update(next_due_at=timezone.now())
        tick(owner.workspace)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    last = PlayRunStep.objects.filter(run=run).last()
    assert last.permanent and last.reason.startswith("gave up after 5 attempts")
    from tend.plays.explain import why_not

    assert why_not(play, book["acme"])["stopped_by"] == "step"


def test_a_re_run_after_a_lost_lease_uses_the_same_key_and_logs_once(
    owner, book, static_segment, flaky
):
    tag_play(owner, static_segment, steps=[{"kind": "test_flaky", "config": {}}])
    enter(owner, static_segment, book["acme"])
    from tend.plays.polling import poll_workspace

    poll_workspace(owner.workspace)
    now = timezone.now()
    # Worker A claims the run and dies (its lease expires without a result recorded).
    dead = claim_due(None, "worker-a", now, owner.workspace.pk)
    PlayRun.objects.filter(pk=dead.pk).update(locked_until=now - datetime.timedelta(seconds=1))
    # Worker B reclaims it; A's late attempt to record finds the lease gone.
    run = claim_due(None, "worker-b", timezone.now(), owner.workspace.pk)
    assert run.pk == dead.pk
    advance(run, "worker-b")
    advance(dead, "worker-a")
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert flaky.effects == {run_key(run, 1): 1}
    assert PlayRunStep.objects.filter(run=run).count() == 1


def test_archiving_cancels_open_runs(owner, book, static_segment):
    play, run = run_for(
        owner,
        static_segment,
        book["acme"],
        [{"kind": "wait", "config": {"days": 1}}, {"kind": "add_tag", "config": {"tag": "z"}}],
    )
    set_status(owner.actor, play, "archived")
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.reason == "the play was archived"
