"""Evaluating dynamic segments: the diff against stored membership, one change row per entry
and exit however often or however many workers evaluate, stale conditions, refreshing a
workspace (what is due, in what order) and the daily counts."""

import datetime
import threading
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled

from tend.accounts.actions.accounts import delete_account, update_account
from tend.accounts.actions.definitions.attributes import delete_attribute
from tend.accounts.models import Account, AttributeDefinition
from tend.lib.errors import InvalidInput
from tend.segments.actions import (
    add_accounts,
    create_segment,
    evaluate_segment,
    evaluation,
    prune_orphans,
    rebuild_counts,
    record_counts,
    refresh_segments,
    remove_accounts,
    update_segment,
)
from tend.segments.models import Segment, SegmentChange, SegmentCount, SegmentMember
from tend.segments.tests.conftest import ENTERPRISE, PAYING, names, shared

pytestmark = pytest.mark.django_db


def members(segment) -> set[str]:
    return names(SegmentMember.objects.filter(segment=segment).select_related("account"))


def changes(segment) -> list[tuple[str, str]]:
    rows = SegmentChange.objects.filter(segment=segment).select_related("account").order_by("id")
    return [(c.account.external_id, c.kind) for c in rows]


def test_a_second_evaluation_with_nothing_changed_writes_nothing(owner, book):
    segment = shared(owner, "Paying", PAYING)
    before = changes(segment)
    result = evaluate_segment(segment)
    assert (result.entered, result.left, result.members) == ([], [], 4)
    assert changes(segment) == before


def test_an_account_that_stops_matching_leaves_and_one_that_starts_enters(owner, book):
    segment = shared(owner, "Paying", PAYING)
    update_account(owner.actor, book["globex"], {"status": "churned"})
    update_account(owner.actor, book["umbrella"], {"status": "paying"})
    result = evaluate_segment(segment)
    assert result.entered == [book["umbrella"].pk] and result.left == [book["globex"].pk]
    assert members(segment) == {"acme", "initech", "tyrell", "umbrella"}
    assert changes(segment)[-2:] == [("umbrella", "entered"), ("globex", "left")]
    segment.refresh_from_db()
    assert segment.member_count == 4 and segment.members_changed_at is not None


def test_an_evaluation_takes_the_same_queries_for_one_change_as_for_many(owner, book):
    segment = shared(owner, "Enterprise", ENTERPRISE)
    update_account(owner.actor, book["acme"], {"attributes": {"plan": "pro"}})
    with CaptureQueriesContext(connection) as one:
        assert len(evaluate_segment(Segment.objects.get(pk=segment.pk)).left) == 1
    Account.objects.filter(workspace=owner.workspace).update(attributes={"plan": "enterprise"})
    with CaptureQueriesContext(connection) as many:
        assert len(evaluate_segment(Segment.objects.get(pk=segment.pk)).entered) == 5
    with CaptureQueriesContext(connection) as catalog:
        evaluation.account_catalog(owner.workspace)
    # Beyond the catalog: the workspace, the segment, two diffs, savepoint, lock, two writes,
    # which event types webhooks want (tend/events), the count, today's count, the segment,
    # release.
    assert len(one) == len(many) <= len(catalog) + 14


def test_a_condition_gone_stale_keeps_the_members_and_says_why(owner, book):
    segment = shared(owner, "Enterprise", ENTERPRISE)
    delete_attribute(owner.actor, AttributeDefinition.objects.get(key="plan"))
    result = evaluate_segment(segment)
    assert "unknown field 'attributes.plan'" in result.error
    segment.refresh_from_db()
    assert "unknown field 'attributes.plan'" in segment.evaluation_error
    assert segment.member_count == 4 and len(members(segment)) == 4


def test_a_static_segment_is_not_evaluated(owner, book):
    segment = shared(owner, "Sponsors")
    with pytest.raises(InvalidInput) as caught:
        evaluate_segment(segment)
    assert caught.value.field == "kind"


# --- Two workers at once ----------------------------------------------------------------------


@contextmanager
def meanwhile(action):
    """Run ``action`` (another worker, another request) between an evaluation's diff and
    its write, once."""
    real = evaluation.transaction
    ran = []

    class Interleaved:
        @staticmethod
        def atomic(*args, **kwargs):
            if not ran:
                ran.append(True)
                action()
            return real.atomic(*args, **kwargs)

    evaluation.transaction = Interleaved
    try:
        yield ran
    finally:
        evaluation.transaction = real


def test_an_evaluation_whose_diff_went_stale_starts_again_and_writes_each_change_once(owner, book):
    segment = shared(owner, "Paying", PAYING)
    update_account(owner.actor, book["umbrella"], {"status": "paying"})
    with meanwhile(lambda: evaluate_segment(Segment.objects.get(pk=segment.pk))) as ran:
        result = evaluate_segment(segment)
    assert ran and not result.skipped
    assert result.entered == []  # the other worker recorded the entry; this run found it done
    assert changes(segment).count(("umbrella", "entered")) == 1


def test_an_evaluation_of_a_condition_changed_meanwhile_gives_way_to_the_new_one(owner, book):
    segment = shared(owner, "Paying", PAYING)
    update_account(owner.actor, book["umbrella"], {"status": "paying"})
    with meanwhile(lambda: Segment.objects.filter(pk=segment.pk).update(condition=ENTERPRISE)):
        evaluate_segment(segment)
    # umbrella never entered on the old condition; the new one was evaluated instead.
    assert members(segment) == {"acme", "initech", "hooli", "stark"}
    assert ("umbrella", "entered") not in changes(segment)


@pytest.mark.django_db(transaction=True)
def test_two_workers_evaluating_at_once_store_every_change_exactly_once(owner, book):
    segment = shared(owner, "Paying", PAYING)
    Account.objects.filter(workspace=owner.workspace).update(
        status="paying", updated_at=timezone.now()
    )
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            with scopes_disabled():
                barrier.wait()
                for _ in range(3):
                    evaluate_segment(Segment.objects.get(pk=segment.pk))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    entered = [name for name, kind in changes(segment) if kind == "entered"]
    assert sorted(entered) == sorted(set(entered)) and len(entered) == 8
    assert len(members(segment)) == 8
    assert Segment.objects.get(pk=segment.pk).member_count == 8


# --- Refreshing a workspace -------------------------------------------------------------------


def test_refresh_evaluates_only_segments_that_are_due(owner, book):
    fresh = shared(owner, "Paying", PAYING)
    old = shared(owner, "Enterprise", ENTERPRISE)
    now = timezone.now()
    inputs_at = evaluation.inputs_changed_at(owner.workspace)
    Segment.objects.filter(pk=fresh.pk).update(evaluated_at=now)
    Segment.objects.filter(pk=old.pk).update(evaluated_at=now - datetime.timedelta(seconds=50))
    assert inputs_at < now
    results = refresh_segments(owner.workspace, now=now)
    assert [r.segment_id for r in results] == [old.pk]  # 50 s is within a tick of a minute
    assert refresh_segments(owner.workspace, now=now) == []
    assert len(refresh_segments(owner.workspace, now=now, force=True)) == 2


def test_changed_data_makes_every_dynamic_segment_due_at_once(owner, book):
    segment = shared(owner, "Paying", PAYING)
    assert not evaluation.is_due(
        Segment.objects.get(pk=segment.pk),
        timezone.now(),
        evaluation.inputs_changed_at(owner.workspace),
        {},
    )
    update_account(owner.actor, book["wayne"], {"status": "paying"})
    results = refresh_segments(owner.workspace)
    assert [len(r.entered) for r in results] == [1]
    assert "wayne" in members(segment)


def test_a_segment_follows_the_segments_its_condition_names_in_the_same_refresh(owner, book):
    sponsors = shared(owner, "Sponsors")
    both = shared(
        owner, "Paying sponsors", {"field": "segment", "op": "in", "value": [sponsors.pk]}
    )
    paying = shared(owner, "Paying", PAYING)  # evaluated after "Paying sponsors" by id
    update_segment(
        owner.actor,
        both,
        {
            "condition": {
                "all": [
                    {"field": "segment", "op": "in", "value": [paying.pk]},
                    {"field": "segment", "op": "in", "value": [sponsors.pk]},
                ]
            }
        },
    )
    add_accounts(owner.actor, sponsors, external_ids=["acme", "umbrella"])
    update_account(owner.actor, book["umbrella"], {"status": "paying"})
    refresh_segments(owner.workspace)  # the data changed: Paying first, then Paying sponsors
    assert members(both) == {"acme", "umbrella"}


def test_a_cycle_that_slipped_in_is_still_evaluated_in_a_stable_order(owner, book):
    a = shared(owner, "A", PAYING)
    b = shared(owner, "B", {"field": "segment", "op": "in", "value": [a.pk]})
    Segment.objects.filter(pk=a.pk).update(
        condition={"field": "segment", "op": "in", "value": [b.pk]}
    )
    order = evaluation.evaluation_order(list(Segment.objects.order_by("pk")))
    assert [s.pk for s in order] == [a.pk, b.pk]


# --- Counts and housekeeping ------------------------------------------------------------------


def test_each_evaluation_records_todays_count_in_the_workspaces_day(owner, book):
    owner.workspace.time_zone = "Pacific/Auckland"
    owner.workspace.save()
    segment = shared(owner, "Paying", PAYING)
    late = datetime.datetime(2025, 3, 1, 12, 30, tzinfo=datetime.UTC)  # 1:30 on 2 March in Auckland
    Segment.objects.filter(pk=segment.pk).update(evaluated_at=None)
    evaluate_segment(Segment.objects.select_related("workspace").get(pk=segment.pk), now=late)
    assert SegmentCount.objects.get(segment=segment, day=datetime.date(2025, 3, 2)).members == 4


def test_recording_counts_gives_every_segment_a_row_for_today_and_corrects_drift(owner, book):
    paying = shared(owner, "Paying", PAYING)
    empty = shared(owner, "Sponsors")
    SegmentMember.objects.filter(segment=paying, account=book["acme"]).delete()  # drifted
    SegmentCount.objects.all().delete()
    assert record_counts(owner.workspace) == 2
    today = evaluation.local_day(owner.workspace, timezone.now())
    assert dict(SegmentCount.objects.filter(day=today).values_list("segment_id", "members")) == {
        paying.pk: 3,
        empty.pk: 0,
    }
    assert Segment.objects.get(pk=paying.pk).member_count == 3
    record_counts(owner.workspace)
    assert SegmentCount.objects.count() == 2


def test_membership_rows_of_accounts_deleted_meanwhile_are_pruned(owner, book):
    segment = shared(owner, "Paying", PAYING)
    delete_account(owner.actor, book["acme"])  # the ORM removes its rows
    assert "acme" not in members(segment)
    SegmentMember.objects.create(workspace=owner.workspace, segment=segment, account_id=999_999)
    SegmentChange.objects.create(
        workspace=owner.workspace, segment=segment, account_id=999_999, kind="entered"
    )
    assert prune_orphans(owner.workspace) == 2
    assert SegmentMember.objects.filter(segment=segment).count() == 3


def test_daily_counts_are_rebuilt_from_the_history(owner, book):
    segment = shared(owner, "Sponsors")
    add_accounts(owner.actor, segment, external_ids=["acme", "globex", "initech"])
    remove_accounts(owner.actor, segment, external_ids=["globex"])
    now = timezone.now()
    today = evaluation.local_day(owner.workspace, now)
    moved = {"acme": 10, "globex": 5, "initech": 2}  # entered that many days ago
    for external_id, days in moved.items():
        SegmentChange.objects.filter(
            segment=segment, account=book[external_id], kind="entered"
        ).update(at=now - datetime.timedelta(days=days))
    SegmentChange.objects.filter(segment=segment, kind="left").update(
        at=now - datetime.timedelta(days=1)
    )
    assert rebuild_counts(segment, today - datetime.timedelta(days=12), now=now) == 13
    counts = dict(SegmentCount.objects.filter(segment=segment).values_list("day", "members"))
    by_age = {(today - day).days: n for day, n in counts.items()}
    assert [by_age[d] for d in (12, 10, 6, 5, 3, 2, 1, 0)] == [0, 1, 1, 2, 2, 3, 2, 2]


def test_a_segment_created_without_evaluating_waits_for_the_refresh(owner, book):
    segment = create_segment(owner.actor, {"name": "Later", "condition": PAYING}, evaluate=False)
    assert segment.evaluated_at is None and segment.member_count == 0
    assert [r.segment_id for r in refresh_segments(owner.workspace)] == [segment.pk]
    assert members(segment) == {"acme", "globex", "initech", "tyrell"}
