"""The reads other code builds on: who sees which segment, an account's segments, the
builder's choices, a segment's accounts, history and counts."""

import pytest

from tend.segments.actions import add_accounts, create_segment
from tend.segments.models import SegmentMember
from tend.segments.queries import (
    accounts_of,
    can_edit,
    counts_of,
    history_of,
    segment_choices,
    segments_of_account,
    visible_segments,
)
from tend.segments.tests.conftest import PAYING, shared
from tend.workspaces.access import system_actor

pytestmark = pytest.mark.django_db


def test_an_account_lists_the_segments_it_is_in_that_the_actor_sees(owner, practitioner, book):
    paying = shared(owner, "Paying", PAYING)
    sponsors = shared(owner, "Sponsors")
    add_accounts(owner.actor, sponsors, external_ids=["acme"])
    private = create_segment(practitioner.actor, {"name": "Mine", "condition": PAYING})
    assert set(segments_of_account(owner.actor, book["acme"])) == {paying, sponsors}
    assert set(segments_of_account(practitioner.actor, book["acme"])) == {paying, sponsors, private}
    assert list(segments_of_account(owner.actor, book["wayne"])) == []


def test_the_builder_offers_the_visible_segments_by_name_but_not_the_one_being_edited(
    owner, practitioner, book
):
    zeta = shared(owner, "Zeta", PAYING)
    alpha = shared(owner, "Alpha")
    create_segment(practitioner.actor, {"name": "Theirs", "condition": PAYING})
    assert segment_choices(owner.actor) == [(alpha.pk, "Alpha"), (zeta.pk, "Zeta")]
    assert segment_choices(owner.actor, exclude=zeta) == [(alpha.pk, "Alpha")]


def test_a_segments_accounts_history_and_counts(owner, book):
    segment = shared(owner, "Paying", PAYING)
    accounts = set(accounts_of(segment).values_list("external_id", flat=True))
    assert accounts == {"acme", "globex", "initech", "tyrell"}
    assert history_of(segment).count() == 4
    assert [n for _day, n in counts_of(segment)] == [4]
    assert SegmentMember.objects.count() == 4


def test_the_system_sees_and_changes_every_segment(owner, practitioner, book):
    private = create_segment(practitioner.actor, {"name": "Mine", "condition": PAYING})
    system = system_actor(owner.workspace)
    assert list(visible_segments(system)) == [private]
    assert can_edit(system, private) and not can_edit(owner.actor, private)
