"""Scorecards and cards through their actions: who may change what, every problem named by
its field, shared scorecards counting shared segments only, card order, and trends."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tend.lib.errors import InvalidInput
from tend.segments.actions import create_segment
from tend.segments.actions.evaluation import local_day
from tend.segments.actions.scorecards import (
    MAX_CARDS,
    add_card,
    create_scorecard,
    delete_card,
    delete_scorecard,
    move_card,
    update_card,
    update_scorecard,
)
from tend.segments.models import SegmentCount
from tend.segments.scorecard_models import KpiCard, KpiValue, Scorecard
from tend.segments.scorecard_queries import get_scorecard, visible_scorecards
from tend.segments.tests.scorecard_world import ENTERPRISE, PAYING, build_book

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(owner):
    return build_book(owner)


def shared_scorecard(persona, name="Revenue"):
    return create_scorecard(persona.actor, {"name": name, "visibility": "shared"})


def titles(scorecard) -> list[str]:
    return list(scorecard.cards.order_by("position").values_list("title", flat=True))


def problem(call, *args) -> tuple[str, str]:
    with pytest.raises(InvalidInput) as caught:
        call(*args)
    return caught.value.field, caught.value.message


# --- Scorecards -------------------------------------------------------------------------------


def test_a_contributor_makes_private_scorecards_only_and_sees_them_alone(
    owner, contributor, practitioner
):
    mine = create_scorecard(contributor.actor, {"name": "My book"})
    assert mine.is_private and mine.owner == contributor.member
    with pytest.raises(PermissionDenied):
        create_scorecard(contributor.actor, {"name": "Team", "visibility": "shared"})
    assert list(visible_scorecards(practitioner.actor)) == []
    assert list(visible_scorecards(contributor.actor)) == [mine]


def test_a_viewer_can_change_no_scorecard(owner, viewer):
    scorecard = shared_scorecard(owner)
    with pytest.raises(PermissionDenied):
        create_scorecard(viewer.actor, {"name": "Mine"})
    with pytest.raises(PermissionDenied):
        update_scorecard(viewer.actor, scorecard, {"name": "Renamed"})
    with pytest.raises(PermissionDenied):
        add_card(viewer.actor, scorecard, {"title": "Accounts"})
    assert get_scorecard(viewer.actor, scorecard.pk) == scorecard


def test_scorecard_names_are_unique_in_a_workspace(owner):
    shared_scorecard(owner, "Revenue")
    assert problem(create_scorecard, owner.actor, {"name": " Revenue "}) == (
        "name",
        "another scorecard is already called 'Revenue'",
    )
    assert problem(create_scorecard, owner.actor, {"name": "  "}) == ("name", "is required")
    assert problem(create_scorecard, owner.actor, {"name": "X", "colour": "red"})[0] == "colour"


def test_deleting_a_scorecard_deletes_its_cards_and_their_trends(owner, book):
    scorecard = shared_scorecard(owner)
    card = add_card(owner.actor, scorecard, {"title": "Paying", "condition": PAYING})
    assert KpiValue.objects.filter(card=card).exists()
    delete_scorecard(owner.actor, scorecard)
    assert not KpiCard.objects.filter(pk=card.pk).exists()
    assert not KpiValue.objects.filter(card_id=card.pk).exists()


# --- Cards ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "title", "is required"),
        (
            {"title": "x", "kind": "median"},
            "kind",
            "expected one of count, percentage, sum, average, got 'median'",
        ),
        (
            {"title": "x", "condition": {"field": "attributes.plan", "op": "eq", "value": "gold"}},
            "condition.value",
            "unknown option 'gold'; options: pro, enterprise",
        ),
        ({"title": "x", "segment_id": 999}, "segment_id", "unknown segment 999"),
        (
            {"title": "x", "segment_id": 1, "condition": PAYING},
            "condition",
            "a card counts a segment or a condition, not both: drop one",
        ),
        ({"title": "x", "kind": "sum"}, "field", "is required: the number field to sum"),
        (
            {"title": "x", "kind": "average", "field": "usage.event_30d"},
            "field",
            "unknown field 'usage.event_30d'",
        ),
        (
            {"title": "x", "kind": "sum", "field": "attributes.plan"},
            "field",
            "'attributes.plan' is not a number field; a sum needs one number per account",
        ),
        (
            {"title": "x", "kind": "sum", "field": "days_in_stage"},
            "field",
            "'days_in_stage' is not a number field; a sum needs one number per account",
        ),
        (
            {"title": "x", "field": "health.score"},
            "field",
            "only a sum or an average card reads a field",
        ),
        ({"title": "x", "base": "paying"}, "base", "only a percentage card has a base"),
        (
            {"title": "x", "kind": "percentage", "base": "segment"},
            "base_segment_id",
            "is required: the segment the percentage is of",
        ),
        ({"title": "x", "kind": "percentage", "target": 120}, "target", "must be at most 100"),
        ({"title": "x", "target": "ten"}, "target", "expected a number, got 'ten'"),
        ({"title": "x", "target": -1}, "target", "must be at least 0"),
        ({"title": "x", "tolerance": -2}, "tolerance", "must be at least 0"),
        (
            {"title": "x", "direction": "above"},
            "direction",
            "expected one of at_least, at_most, got 'above'",
        ),
        ({"title": "x", "position": -1}, "position", "expected a whole number, 0 or more"),
    ],
)
def test_a_card_with_a_problem_is_refused_naming_its_field(owner, book, data, field, message):
    scorecard = shared_scorecard(owner)
    assert problem(add_card, owner.actor, scorecard, data) == (field, message)
    assert not scorecard.cards.exists()


def test_a_shared_scorecard_counts_shared_segments_only(owner, book):
    scorecard = shared_scorecard(owner)
    private = create_segment(owner.actor, {"name": "Mine", "condition": ENTERPRISE})
    field, message = problem(
        add_card, owner.actor, scorecard, {"title": "x", "segment_id": private.pk}
    )
    assert field == "segment_id"
    assert message.startswith(
        "segment 'Mine' is private; a shared scorecard counts shared segments"
    )
    clause = {"all": [PAYING, {"field": "segment", "op": "in", "value": [private.pk]}]}
    assert problem(add_card, owner.actor, scorecard, {"title": "x", "condition": clause})[0] == (
        "condition.all.1.value.0"
    )


def test_a_private_scorecard_may_count_its_owners_private_segment_until_it_is_shared(owner, book):
    scorecard = create_scorecard(owner.actor, {"name": "Mine"})
    private = create_segment(owner.actor, {"name": "Mine", "condition": ENTERPRISE})
    add_card(owner.actor, scorecard, {"title": "Enterprise", "segment_id": private.pk})
    field, message = problem(update_scorecard, owner.actor, scorecard, {"visibility": "shared"})
    assert field == "visibility"
    assert "card 'Enterprise' counts the private segment 'Mine'" in message
    assert Scorecard.objects.get(pk=scorecard.pk).is_private


def test_another_members_private_segment_is_unknown(owner, practitioner, book):
    theirs = create_segment(owner.actor, {"name": "Owner's", "condition": ENTERPRISE})
    mine = create_scorecard(practitioner.actor, {"name": "Mine"})
    assert problem(add_card, practitioner.actor, mine, {"title": "x", "segment_id": theirs.pk}) == (
        "segment_id",
        f"unknown segment {theirs.pk}",
    )


def test_cards_go_last_or_where_asked_and_can_be_moved_and_deleted(owner, book):
    scorecard = shared_scorecard(owner)
    first = add_card(owner.actor, scorecard, {"title": "First"})
    add_card(owner.actor, scorecard, {"title": "Second"})
    add_card(owner.actor, scorecard, {"title": "Before all", "position": 0})
    assert titles(scorecard) == ["Before all", "First", "Second"]
    move_card(owner.actor, KpiCard.objects.get(pk=first.pk), 2)
    assert titles(scorecard) == ["Before all", "Second", "First"]
    delete_card(owner.actor, KpiCard.objects.get(title="Second"))
    assert list(scorecard.cards.values_list("title", "position")) == [
        ("Before all", 0),
        ("First", 1),
    ]


def test_a_scorecard_holds_a_limited_number_of_cards(owner):
    scorecard = shared_scorecard(owner)
    KpiCard.objects.bulk_create(
        KpiCard(workspace=owner.workspace, scorecard=scorecard, title=f"Card {i}", position=i)
        for i in range(MAX_CARDS)
    )
    assert problem(add_card, owner.actor, scorecard, {"title": "One more"}) == (
        "scorecard",
        f"has {MAX_CARDS} cards, the most a scorecard holds",
    )


def test_giving_a_card_a_segment_drops_its_condition_and_the_reverse(owner, book):
    scorecard = shared_scorecard(owner)
    segment = create_segment(
        owner.actor, {"name": "Enterprise", "visibility": "shared", "condition": ENTERPRISE}
    )
    card = add_card(owner.actor, scorecard, {"title": "x", "condition": PAYING})
    card = update_card(owner.actor, card, {"segment_id": segment.pk})
    assert (card.source, card.segment_id, card.condition) == ("segment", segment.pk, None)
    card = update_card(owner.actor, card, {"condition": PAYING})
    assert (card.source, card.segment_id, card.condition) == ("condition", None, PAYING)
    card = update_card(owner.actor, card, {"condition": None})
    assert (card.source, card.segment_id, card.condition) == ("all", None, None)


def test_changing_a_card_to_a_count_drops_its_field_and_base(owner, book):
    scorecard = shared_scorecard(owner)
    card = add_card(
        owner.actor, scorecard, {"title": "x", "kind": "average", "field": "usage.events_30d"}
    )
    card = update_card(owner.actor, card, {"kind": "count"})
    assert (card.kind, card.field) == ("count", "")
    card = update_card(owner.actor, card, {"kind": "percentage", "base": "paying"})
    card = update_card(owner.actor, card, {"kind": "count"})
    assert (card.kind, card.base) == ("count", "all")


# --- Trends -----------------------------------------------------------------------------------


def test_a_new_card_records_todays_value(owner, book):
    scorecard = shared_scorecard(owner)
    card = add_card(owner.actor, scorecard, {"title": "Paying", "condition": PAYING})
    today = local_day(owner.workspace, timezone.now())
    assert list(KpiValue.objects.filter(card=card).values_list("day", "value")) == [(today, 3.0)]


def test_a_plain_count_of_a_segment_takes_the_segments_daily_counts_as_its_past(owner, book):
    segment = create_segment(
        owner.actor, {"name": "Enterprise", "visibility": "shared", "condition": ENTERPRISE}
    )
    today = local_day(owner.workspace, timezone.now())
    for days_ago, members in ((3, 5), (2, 4)):
        SegmentCount.objects.create(
            workspace=owner.workspace,
            segment=segment,
            day=today - datetime.timedelta(days=days_ago),
            members=members,
        )
    card = add_card(owner.actor, shared_scorecard(owner), {"title": "x", "segment_id": segment.pk})
    assert list(KpiValue.objects.filter(card=card).values_list("day", "value")) == [
        (today - datetime.timedelta(days=3), 5.0),
        (today - datetime.timedelta(days=2), 4.0),
        (today, 2.0),
    ]


def test_a_percentage_of_a_segment_takes_no_past_from_its_counts(owner, book):
    segment = create_segment(
        owner.actor, {"name": "Enterprise", "visibility": "shared", "condition": ENTERPRISE}
    )
    SegmentCount.objects.create(
        workspace=owner.workspace,
        segment=segment,
        day=local_day(owner.workspace, timezone.now()) - datetime.timedelta(days=3),
        members=5,
    )
    card = add_card(
        owner.actor,
        shared_scorecard(owner),
        {"title": "x", "kind": "percentage", "segment_id": segment.pk},
    )
    assert KpiValue.objects.filter(card=card).count() == 1


def test_changing_what_a_card_measures_starts_its_trend_afresh_but_a_new_title_keeps_it(
    owner, book
):
    card = add_card(owner.actor, shared_scorecard(owner), {"title": "x", "condition": PAYING})
    yesterday = local_day(owner.workspace, timezone.now()) - datetime.timedelta(days=1)
    KpiValue.objects.create(workspace=owner.workspace, card=card, day=yesterday, value=9)
    update_card(owner.actor, card, {"title": "Paying accounts", "target": 5})
    assert KpiValue.objects.filter(card=card, day=yesterday).exists()
    update_card(owner.actor, KpiCard.objects.get(pk=card.pk), {"condition": ENTERPRISE})
    assert list(KpiValue.objects.filter(card=card).values_list("value", flat=True)) == [2.0]
