"""Creating, changing and deleting segments: what is checked, who may do it, and that a
dynamic segment is evaluated as soon as its condition is saved."""

import pytest
from django.core.exceptions import PermissionDenied

from tend.health.actions.profiles import create_profile
from tend.lib.errors import InvalidInput
from tend.segments.actions import (
    create_segment,
    delete_segment,
    set_used_by_automation,
    update_segment,
)
from tend.segments.models import Segment, SegmentChange, SegmentMember
from tend.segments.queries import get_segment, visible_segments
from tend.segments.tests.conftest import ENTERPRISE, PAYING, names, shared

pytestmark = pytest.mark.django_db


def members(segment) -> set[str]:
    return names(SegmentMember.objects.filter(segment=segment).select_related("account"))


def test_a_dynamic_segment_holds_the_accounts_its_condition_matches_as_soon_as_it_is_created(
    owner, book
):
    segment = shared(owner, "Paying enterprise", {"all": [PAYING, ENTERPRISE]})
    assert members(segment) == {"acme", "initech"}
    assert segment.member_count == 2
    assert segment.evaluated_at is not None and segment.evaluation_error == ""
    entered = SegmentChange.objects.filter(segment=segment, kind="entered", source="condition")
    assert names(entered) == {"acme", "initech"}


def test_changing_the_condition_re_evaluates_at_once_recording_who_left_and_entered(owner, book):
    segment = shared(owner, "Enterprise", ENTERPRISE)
    update_segment(owner.actor, segment, {"condition": PAYING})
    assert members(segment) == {"acme", "globex", "initech", "tyrell"}
    left = SegmentChange.objects.filter(segment=segment, kind="left")
    assert names(left) == {"hooli", "stark"}
    assert names(SegmentChange.objects.filter(segment=segment, kind="entered")) == {
        "acme",
        "initech",
        "hooli",
        "stark",
        "globex",
        "tyrell",
    }


def test_a_static_segment_starts_empty_and_takes_no_condition(owner, book):
    segment = shared(owner, "Executive sponsors")
    assert segment.kind == "static" and segment.member_count == 0 and segment.condition is None
    with pytest.raises(InvalidInput) as caught:
        create_segment(owner.actor, {"name": "Odd", "kind": "static", "condition": PAYING})
    assert caught.value.field == "condition"
    with pytest.raises(InvalidInput) as caught:
        update_segment(owner.actor, segment, {"condition": PAYING})
    assert caught.value.field == "condition"


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"name": "  "}, "name", "is required"),
        ({"name": "x" * 121}, "name", "is longer than 120 characters"),
        ({"name": "A", "kind": "smart"}, "kind", "expected one of dynamic, static, got 'smart'"),
        (
            {"name": "A", "visibility": "public"},
            "visibility",
            "expected one of private, shared, got 'public'",
        ),
        (
            {"name": "A"},
            "condition",
            "is required: a dynamic segment holds the accounts it matches",
        ),
        (
            {
                "name": "A",
                "condition": {
                    "all": [PAYING, {"field": "attributes.plan", "op": "eq", "value": "gold"}]
                },
            },
            "condition.all.1.value",
            "unknown option 'gold'; options: free, pro, enterprise",
        ),
        (
            {"name": "A", "condition": {"field": "segment", "op": "in", "value": [999]}},
            "condition.value.0",
            "unknown segment 999",
        ),
        (
            {"name": "A", "colour": "red"},
            "colour",
            "is not a field of a segment; use name, description, kind, condition, visibility",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field(owner, book, data, field, message):
    with pytest.raises(InvalidInput) as caught:
        create_segment(owner.actor, data)
    assert (caught.value.field, caught.value.message) == (field, message)
    assert not Segment.objects.exists()


def test_names_are_unique_in_a_workspace_but_not_across_workspaces(owner, outsider, book):
    shared(owner, "At risk")
    with pytest.raises(InvalidInput, match="another segment is already called 'At risk'"):
        shared(owner, " At risk ")
    shared(outsider, "At risk")
    other = shared(owner, "Renewals")
    with pytest.raises(InvalidInput) as caught:
        update_segment(owner.actor, other, {"name": "At risk"})
    assert caught.value.field == "name"


def test_the_kind_of_a_segment_cannot_change(owner, book):
    segment = shared(owner, "Paying", PAYING)
    with pytest.raises(InvalidInput) as caught:
        update_segment(owner.actor, segment, {"kind": "static"})
    assert caught.value.field == "kind"
    update_segment(owner.actor, segment, {"kind": "dynamic", "description": "Billing says paying"})
    segment.refresh_from_db()
    assert segment.description == "Billing says paying"


def test_a_contributor_makes_private_segments_but_not_shared_ones(contributor, book):
    mine = create_segment(contributor.actor, {"name": "My renewals", "condition": PAYING})
    assert mine.is_private and mine.owner == contributor.member
    with pytest.raises(PermissionDenied):
        create_segment(
            contributor.actor, {"name": "Team", "condition": PAYING, "visibility": "shared"}
        )
    with pytest.raises(PermissionDenied):
        update_segment(contributor.actor, mine, {"visibility": "shared"})
    update_segment(contributor.actor, mine, {"name": "My paying"})


def test_a_viewer_changes_nothing(viewer, owner, book):
    segment = shared(owner, "Paying", PAYING)
    with pytest.raises(PermissionDenied):
        create_segment(viewer.actor, {"name": "Mine", "condition": PAYING})
    with pytest.raises(PermissionDenied):
        update_segment(viewer.actor, segment, {"name": "Renamed"})
    with pytest.raises(PermissionDenied):
        delete_segment(viewer.actor, segment)
    assert Segment.objects.get().name == "Paying"


def test_a_private_segment_is_seen_and_changed_by_its_owner_only(owner, practitioner, book):
    private = create_segment(practitioner.actor, {"name": "Mine", "condition": PAYING})
    assert list(visible_segments(practitioner.actor)) == [private]
    assert list(visible_segments(owner.actor)) == []  # an admin too
    with pytest.raises(Exception) as caught:
        get_segment(owner.actor, private.pk)
    assert caught.type.__name__ == "Http404"
    with pytest.raises(PermissionDenied):
        update_segment(owner.actor, private, {"name": "Taken"})


def test_taking_a_shared_segment_private_makes_it_yours(owner, practitioner, book):
    segment = shared(owner, "Paying", PAYING)
    update_segment(practitioner.actor, segment, {"visibility": "private"})
    segment.refresh_from_db()
    assert segment.is_private and segment.owner == practitioner.member
    assert list(visible_segments(owner.actor)) == []


def test_deleting_a_segment_removes_its_members_and_history(owner, book):
    segment = shared(owner, "Paying", PAYING)
    delete_segment(owner.actor, segment)
    assert not Segment.objects.exists()
    assert not SegmentMember.objects.exists() and not SegmentChange.objects.exists()


def test_a_segment_another_condition_names_cannot_be_deleted(owner, book):
    paying = shared(owner, "Paying", PAYING)
    shared(
        owner,
        "Paying enterprise",
        {"all": [{"field": "segment", "op": "in", "value": [paying.pk]}, ENTERPRISE]},
    )
    create_profile(
        owner.actor,
        {
            "name": "Paying accounts",
            "condition": {"field": "segment", "op": "in", "value": [paying.pk]},
            "definition": {
                "kind": "rules",
                "metrics": [
                    {
                        "source": "usage.active_days_14d",
                        "grading": "thresholds",
                        "direction": "higher",
                        "good": 4,
                        "poor": 1,
                    }
                ],
            },
        },
    )
    with pytest.raises(InvalidInput) as caught:
        delete_segment(owner.actor, paying)
    assert caught.value.field == "segment"
    assert "segment 'Paying enterprise'" in caught.value.message
    assert "health profile 'Paying accounts'" in caught.value.message
    assert Segment.objects.filter(pk=paying.pk).exists()


def test_plays_mark_the_segments_they_use(owner, book):
    segment = shared(owner, "Paying", PAYING)
    set_used_by_automation(segment, True)
    assert Segment.objects.get(pk=segment.pk).used_by_automation is True
