"""The condition field ``segment``: membership of static and dynamic segments, refused when
it names unknown or invisible segments or would make a segment depend on itself, and the
compiled filter agreeing with the pure evaluator on a table and on random conditions."""

import json

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from tend.accounts.conditions import account_catalog, account_records
from tend.accounts.models import Account
from tend.accounts.tests.condition_checks import AGREEMENT, Population, random_conditions
from tend.lib.conditions import FieldType, evaluate, field_operators, validate
from tend.lib.errors import InvalidInput
from tend.segments.actions import add_accounts, create_segment, update_segment
from tend.segments.queries import count_matching
from tend.segments.tests.conftest import ENTERPRISE, PAYING, shared

pytestmark = pytest.mark.django_db


def in_(*ids):
    return {"field": "segment", "op": "in", "value": list(ids)}


def not_in(*ids):
    return {"field": "segment", "op": "not_in", "value": list(ids)}


@pytest.fixture
def segments(owner, book):
    """A dynamic segment (paying), a static one (sponsors: acme, umbrella, wayne) and an
    empty static one, over the book."""
    paying = shared(owner, "Paying", PAYING)
    sponsors = shared(owner, "Sponsors")
    add_accounts(owner.actor, sponsors, external_ids=["acme", "umbrella", "wayne"])
    empty = shared(owner, "Empty")
    return {"paying": paying.pk, "sponsors": sponsors.pk, "empty": empty.pk}


@pytest.fixture
def population(owner, segments):
    workspace = owner.workspace
    return Population(
        workspace,
        account_catalog(workspace),
        timezone.now().astimezone(timezone.get_current_timezone()),
    )


def test_the_field_takes_segment_ids_with_in_and_not_in(population, segments):
    spec = population.catalog["segment"]
    assert spec.type == FieldType.MULTI_ENUM and spec.ids
    assert set(spec.options) == set(segments.values())
    assert [o.name for o in field_operators(spec)] == ["in", "not_in"]


def test_membership_of_both_kinds_is_the_stored_membership(population, segments):
    s = segments
    cases = [
        (in_(s["paying"]), {"acme", "globex", "initech", "tyrell"}),
        (in_(s["sponsors"]), {"acme", "umbrella", "wayne"}),
        (
            in_(s["paying"], s["sponsors"]),
            {"acme", "globex", "initech", "tyrell", "umbrella", "wayne"},
        ),
        (not_in(s["paying"]), {"umbrella", "hooli", "stark", "wayne"}),
        (in_(s["empty"]), set()),
        (not_in(s["empty"]), set(Account.objects.values_list("external_id", flat=True))),
        ({"all": [in_(s["paying"]), not_in(s["sponsors"])]}, {"globex", "initech", "tyrell"}),
        ({"not": in_(s["sponsors"])}, {"globex", "initech", "hooli", "stark", "tyrell"}),
    ]
    wrong = {}
    for condition, expected in cases:
        found = population.matching(condition)
        if found != expected:
            wrong[json.dumps(condition)] = sorted(found)
    assert wrong == {}


@given(data=st.data())
@AGREEMENT
def test_the_compiled_filter_and_the_evaluator_agree_on_random_conditions_with_segments(
    population, data
):
    fields = ["segment", "status", "attributes.plan", "name"]
    population.matching(data.draw(random_conditions(population, fields)))


def test_one_account_is_evaluated_from_its_stored_membership(owner, segments, book):
    catalog = account_catalog(owner.workspace)
    condition = {"all": [in_(segments["sponsors"]), not_in(segments["paying"])]}
    now = timezone.now()
    records = account_records(
        catalog,
        Account.objects.filter(pk__in=[book["umbrella"].pk, book["acme"].pk]),
        now,
        condition,
    )
    assert records[book["umbrella"].pk]["segment"] == [segments["sponsors"]]
    assert evaluate(condition, records[book["umbrella"].pk], now) is True
    assert evaluate(condition, records[book["acme"].pk], now) is False


@pytest.mark.parametrize(
    "clause, path, message",
    [
        ({"field": "segment", "op": "in", "value": [4040]}, "value.0", "unknown segment 4040"),
        (
            {"field": "segment", "op": "in", "value": ["1"]},
            "value.0",
            "expected the id of a segment (a whole number), got '1'",
        ),
        (
            {"field": "segment", "op": "in", "value": []},
            "value",
            "expected a non-empty list of values",
        ),
        (
            {"field": "segment", "op": "contains", "value": 1},
            "op",
            "'contains' does not apply to segment (multi_enum); use one of in, not_in",
        ),
        (
            {"field": "segment", "op": "is_set"},
            "op",
            "'is_set' does not apply to segment (multi_enum); use one of in, not_in",
        ),
    ],
)
def test_a_wrong_segment_clause_is_named(owner, segments, clause, path, message):
    errors = validate(clause, account_catalog(owner.workspace))
    assert [(e.path, e.message) for e in errors] == [(path, message)]


def test_a_segment_may_not_refer_to_itself(owner, segments):
    paying = segments["paying"]
    from tend.segments.models import Segment

    segment = Segment.objects.get(pk=paying)
    with pytest.raises(InvalidInput) as caught:
        update_segment(owner.actor, segment, {"condition": {"all": [PAYING, in_(paying)]}})
    assert caught.value.field == "condition.all.1.value"
    assert caught.value.message == "a segment may not refer to itself"


def test_a_cycle_through_other_segments_is_refused_naming_the_clause_and_the_chain(owner, segments):
    from tend.segments.models import Segment

    a = Segment.objects.get(pk=segments["paying"])
    b = shared(owner, "B", in_(a.pk))
    c = shared(owner, "C", {"any": [ENTERPRISE, in_(b.pk)]})
    with pytest.raises(InvalidInput) as caught:
        update_segment(
            owner.actor,
            a,
            {"condition": {"all": [PAYING, {"not": in_(segments["sponsors"], c.pk)}]}},
        )
    assert caught.value.field == "condition.all.1.not.value"
    assert caught.value.message == (
        "segment 'C' refers back to this one ('C' → 'B' → this segment); "
        "a segment may not depend on itself"
    )
    assert Segment.objects.get(pk=a.pk).condition == PAYING


def test_another_members_private_segment_is_unknown_to_a_condition(owner, practitioner, segments):
    private = create_segment(practitioner.actor, {"name": "Mine", "condition": PAYING})
    with pytest.raises(InvalidInput) as caught:
        create_segment(
            owner.actor, {"name": "Peek", "condition": {"any": [ENTERPRISE, in_(private.pk)]}}
        )
    assert (caught.value.field, caught.value.message) == (
        "condition.any.1.value.0",
        f"unknown segment {private.pk}",
    )
    assert count_matching(practitioner.actor, in_(private.pk)) == 4


def test_the_live_count_checks_the_draft_as_saving_would(owner, segments):
    assert count_matching(owner.actor, {"all": [PAYING, ENTERPRISE]}) == 2
    with pytest.raises(InvalidInput) as caught:
        count_matching(owner.actor, {"all": [{"field": "status", "op": "eq", "value": "gold"}]})
    assert caught.value.field == "condition.all.0.value"
