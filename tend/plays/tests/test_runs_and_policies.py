"""A play starts one run per trigger occurrence, honours its run policy, and leaves drafts
and paused plays alone — with "why not?" saying which check stopped it."""

from tend.accounts.models import AccountTag
from tend.plays.actions import set_status
from tend.plays.explain import why_not
from tend.plays.models import PlayRun, PlayRunStep, RunStatus
from tend.plays.polling import poll_workspace
from tend.plays.tests.conftest import enter, leave, tag_play, tick


def tags_of(account):
    return set(AccountTag.objects.filter(account=account).values_list("tag__name", flat=True))


def test_entering_a_segment_runs_the_steps_and_logs_each(owner, book, static_segment):
    play = tag_play(owner, static_segment)
    enter(owner, static_segment, book["acme"])
    tick(owner.workspace)
    run = PlayRun.objects.get(play=play)
    assert run.status == RunStatus.DONE
    assert run.cause_kind == "segment_change" and "entered segment" in run.cause
    assert tags_of(book["acme"]) == {"onboarding"}
    log = PlayRunStep.objects.get(run=run)
    assert (log.outcome, log.position, log.permanent) == ("done", 1, False)
    assert log.detail == {"tags_added": ["onboarding"]}


def test_a_duplicate_poll_never_makes_a_second_run(owner, book, static_segment):
    play = tag_play(owner, static_segment)
    enter(owner, static_segment, book["acme"])
    poll_workspace(owner.workspace)
    play.refresh_from_db()
    # A second poller that read the same rows (an old cursor) adds nothing.
    type(play).objects.filter(pk=play.pk).update(trigger_cursor=0)
    poll_workspace(owner.workspace)
    assert PlayRun.objects.filter(play=play).count() == 1


def test_once_per_occurrence_runs_again_on_re_entry(owner, book, static_segment):
    play = tag_play(owner, static_segment)
    enter(owner, static_segment, book["acme"])
    tick(owner.workspace)
    leave(owner, static_segment, book["acme"])
    enter(owner, static_segment, book["acme"])
    tick(owner.workspace)
    assert PlayRun.objects.filter(play=play, status=RunStatus.DONE).count() == 2


def test_once_per_account_does_not_run_twice_when_an_account_leaves_and_re_enters(
    owner, book, static_segment
):
    play = tag_play(owner, static_segment, run_policy="once_per_account")
    enter(owner, static_segment, book["acme"])
    tick(owner.workspace)
    leave(owner, static_segment, book["acme"])
    enter(owner, static_segment, book["acme"])
    tick(owner.workspace)
    runs = list(PlayRun.objects.filter(play=play).order_by("id"))
    assert [r.status for r in runs] == [RunStatus.DONE, RunStatus.SKIPPED]
    assert runs[1].reason.startswith("run policy: once per account")
    answer = why_not(play, book["acme"])
    assert answer["stopped_by"] == "run_policy"


def test_every_n_days_blocks_a_second_run_within_the_window(owner, book, static_segment):
    play = tag_play(owner, static_segment, run_policy="every_n_days", policy_days=30)
    enter(owner, static_segment, book["acme"])
    tick(owner.workspace)
    leave(owner, static_segment, book["acme"])
    enter(owner, static_segment, book["acme"])
    tick(owner.workspace)
    statuses = list(
        PlayRun.objects.filter(play=play).order_by("id").values_list("status", flat=True)
    )
    assert statuses == [RunStatus.DONE, RunStatus.SKIPPED]
    # Thirty days later the window has passed.
    PlayRun.objects.filter(play=play, status=RunStatus.DONE).update(
        started_at=PlayRun.objects.get(play=play, status=RunStatus.DONE).started_at
        - __import__("datetime").timedelta(days=31)
    )
    leave(owner, static_segment, book["acme"])
    enter(owner, static_segment, book["acme"])
    tick(owner.workspace)
    assert PlayRun.objects.filter(play=play, status=RunStatus.DONE).count() == 2


def test_a_draft_play_does_nothing_and_why_not_says_so(owner, book, static_segment):
    play = tag_play(owner, static_segment, status="draft")
    enter(owner, static_segment, book["acme"])
    tick(owner.workspace)
    assert not PlayRun.objects.filter(play=play).exists()
    assert tags_of(book["acme"]) == set()
    answer = why_not(play, book["acme"])
    assert answer["stopped_by"] == "status"
    assert "draft" in answer["verdict"]


def test_a_paused_play_starts_nothing_and_holds_open_runs_until_resumed(
    owner, book, static_segment
):
    play = tag_play(owner, static_segment, steps=[{"kind": "add_tag", "config": {"tag": "a"}}])
    play = set_status(owner.actor, play, "paused")["play"]
    enter(owner, static_segment, book["acme"])
    tick(owner.workspace)
    assert not PlayRun.objects.filter(play=play).exists()
    answer = why_not(play, book["acme"])
    assert answer["stopped_by"] == "status" and "paused" in answer["verdict"]
    # Resumed: new occurrences since the pause are read (the cursor was kept).
    set_status(owner.actor, play, "active")
    tick(owner.workspace)
    assert PlayRun.objects.get(play=play).status == RunStatus.DONE


def test_the_condition_is_evaluated_at_run_time_and_a_miss_is_recorded(owner, book, static_segment):
    play = tag_play(
        owner,
        static_segment,
        condition={"field": "attributes.plan", "op": "eq", "value": "enterprise"},
    )
    enter(owner, static_segment, book["acme"], book["globex"])
    tick(owner.workspace)
    by_account = {r.account_id: r for r in PlayRun.objects.filter(play=play)}
    assert by_account[book["acme"].pk].status == RunStatus.DONE
    assert by_account[book["globex"].pk].status == RunStatus.SKIPPED
    assert "condition" in by_account[book["globex"].pk].reason
    assert why_not(play, book["globex"])["stopped_by"] == "condition"
    assert tags_of(book["globex"]) == set()


def test_activation_with_backfill_runs_for_accounts_already_matching(owner, book, static_segment):
    enter(owner, static_segment, book["acme"], book["globex"])
    without = tag_play(owner, static_segment, name="New only", backfill=False)
    with_backfill = tag_play(owner, static_segment, name="Backfilled", backfill=True, tag="b")
    tick(owner.workspace)
    assert not PlayRun.objects.filter(play=without).exists()
    assert PlayRun.objects.filter(play=with_backfill, status=RunStatus.DONE).count() == 2
    # The change rows the backfill used are not read again as new occurrences.
    tick(owner.workspace)
    assert PlayRun.objects.filter(play=with_backfill).count() == 2


def test_why_not_says_when_the_trigger_never_fired(owner, book, static_segment):
    play = tag_play(owner, static_segment)
    answer = why_not(play, book["initech"])
    assert answer["stopped_by"] == "trigger"


def test_where_ids_may_commit_out_of_order_the_cursor_waits_for_rows_to_settle(
    owner, book, static_segment, monkeypatch
):
    """PostgreSQL: a row younger than the settle time is read (its run starts) but the stored
    cursor stays before it, so a smaller id committed late is still read; re-reading the
    young rows starts nothing twice."""
    import datetime

    from django.utils import timezone

    from tend.plays.models import Play
    from tend.plays.polling import poll_play
    from tend.plays.triggers import changes

    monkeypatch.setattr(changes, "settle_seconds", lambda: 60)
    play = tag_play(owner, static_segment)
    start = play.trigger_cursor
    enter(owner, static_segment, book["acme"])
    poll_play(Play.objects.get(pk=play.pk))
    assert Play.objects.get(pk=play.pk).trigger_cursor == start
    poll_play(Play.objects.get(pk=play.pk))
    assert PlayRun.objects.filter(play=play).count() == 1
    later = timezone.now() + datetime.timedelta(seconds=61)
    poll_play(Play.objects.get(pk=play.pk), later)
    assert Play.objects.get(pk=play.pk).trigger_cursor > start
    assert PlayRun.objects.filter(play=play).count() == 1
