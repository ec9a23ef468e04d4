"""What a KPI card measures: counts, percentages of a base, sums and averages of a number
field, over a segment, a condition or every account — all cards of a scorecard in one
query — and the status against a target."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.accounts.actions.definitions import delete_attribute
from tend.accounts.conditions import account_catalog
from tend.accounts.models import AttributeDefinition
from tend.segments.actions import create_segment, delete_segment
from tend.segments.actions.scorecards import add_card, create_scorecard
from tend.segments.kpis import (
    AT_RISK,
    NO_TARGET,
    NO_VALUE,
    OFF_TRACK,
    ON_TRACK,
    format_value,
    read_cards,
    status_of,
)
from tend.segments.scorecard_models import KpiCard
from tend.segments.tests.scorecard_world import ENTERPRISE, PAYING, build_book

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(owner):
    return build_book(owner)


@pytest.fixture
def scorecard(owner, book):
    return create_scorecard(owner.actor, {"name": "Revenue", "visibility": "shared"})


def card(owner, scorecard, **data):
    return add_card(owner.actor, scorecard, {"title": data.pop("title", "A card"), **data})


def value_of(owner, *cards):
    readings = read_cards(owner.workspace, list(cards))
    return [readings[c.pk].value for c in cards]


def test_a_count_card_counts_the_accounts_its_condition_matches(owner, scorecard):
    paying = card(owner, scorecard, condition=PAYING)
    assert value_of(owner, paying) == [3.0]


def test_a_count_card_without_accounts_named_counts_every_account(owner, scorecard):
    everyone = card(owner, scorecard)
    assert value_of(owner, everyone) == [6.0]


def test_a_count_card_of_a_segment_counts_its_members(owner, scorecard):
    segment = create_segment(
        owner.actor, {"name": "Enterprise", "visibility": "shared", "condition": ENTERPRISE}
    )
    enterprise = card(owner, scorecard, segment_id=segment.pk)
    assert value_of(owner, enterprise) == [2.0]


def test_a_percentage_is_of_the_accounts_in_its_base(owner, scorecard):
    of_paying = card(owner, scorecard, kind="percentage", condition=ENTERPRISE, base="paying")
    of_all = card(owner, scorecard, kind="percentage", condition=ENTERPRISE)
    trials = create_segment(
        owner.actor,
        {
            "name": "Trials",
            "visibility": "shared",
            "condition": {"field": "status", "op": "eq", "value": "trial"},
        },
    )
    of_trials = card(
        owner,
        scorecard,
        kind="percentage",
        condition=ENTERPRISE,
        base="segment",
        base_segment_id=trials.pk,
    )
    readings = read_cards(owner.workspace, [of_paying, of_all, of_trials])
    assert readings[of_paying.pk].value == pytest.approx(200 / 3)
    assert (readings[of_paying.pk].accounts, readings[of_paying.pk].base) == (2, 3)
    assert readings[of_all.pk].value == pytest.approx(100 / 3)
    # No trial is on the enterprise plan.
    assert (readings[of_trials.pk].value, readings[of_trials.pk].base) == (0.0, 1)


def test_a_percentage_of_an_empty_base_has_no_value(owner, scorecard):
    nobody = create_segment(
        owner.actor, {"name": "Nobody", "visibility": "shared", "kind": "static"}
    )
    empty = card(owner, scorecard, kind="percentage", base="segment", base_segment_id=nobody.pk)
    assert value_of(owner, empty) == [None]


def test_sum_and_average_read_a_number_field_and_skip_missing_values(owner, scorecard):
    total = card(owner, scorecard, kind="sum", field="attributes.contract_value", condition=PAYING)
    mean = card(owner, scorecard, kind="average", field="attributes.contract_value")
    readings = read_cards(owner.workspace, [total, mean])
    # acme 50,000 + globex 10,000; initech has none.
    assert (readings[total.pk].value, readings[total.pk].accounts) == (60000.0, 2)
    # acme, globex and stark (churned) have a contract value.
    assert readings[mean.pk].value == pytest.approx(80000 / 3)
    assert readings[mean.pk].accounts == 3


def test_a_sum_over_no_value_is_zero_and_an_average_has_none(owner, scorecard):
    free = {"field": "status", "op": "eq", "value": "free"}
    total = card(owner, scorecard, kind="sum", field="attributes.contract_value", condition=free)
    mean = card(owner, scorecard, kind="average", field="attributes.contract_value", condition=free)
    assert value_of(owner, total, mean) == [0.0, None]


def test_sums_read_fields_other_apps_add(owner, scorecard):
    events = card(owner, scorecard, kind="sum", field="usage.events_30d")
    # acme used the product today, umbrella two days ago; globex's use was 40 days ago.
    assert value_of(owner, events) == [2.0]


def test_every_card_of_a_scorecard_is_read_in_one_query(owner, scorecard):
    cards = [
        card(owner, scorecard, condition=PAYING),
        card(owner, scorecard, kind="percentage", condition=ENTERPRISE, base="paying"),
        card(owner, scorecard, kind="sum", field="attributes.contract_value"),
        card(owner, scorecard, kind="average", field="usage.events_30d", condition=PAYING),
    ]
    catalog = account_catalog(owner.workspace)
    with CaptureQueriesContext(connection) as queries:
        readings = read_cards(owner.workspace, cards, catalog=catalog)
    assert len(queries) == 1
    assert all(readings[c.pk].value is not None for c in cards)


def test_a_card_whose_attribute_was_deleted_says_what_it_needs_and_the_others_still_count(
    owner, scorecard
):
    renewal = card(
        owner,
        scorecard,
        condition={"field": "attributes.renewal_date", "op": "is_not_set"},
    )
    paying = card(owner, scorecard, condition=PAYING)
    delete_attribute(
        owner.actor, AttributeDefinition.objects.get(workspace=owner.workspace, key="renewal_date")
    )
    readings = read_cards(owner.workspace, [renewal, paying])
    assert readings[renewal.pk].value is None
    assert "Needs the account attribute 'renewal_date'" in readings[renewal.pk].problem
    assert readings[renewal.pk].needs == "attribute"
    assert readings[paying.pk].value == 3.0


def test_a_card_whose_segment_was_deleted_counts_nothing_and_says_why(owner, scorecard):
    segment = create_segment(
        owner.actor, {"name": "Enterprise", "visibility": "shared", "condition": ENTERPRISE}
    )
    enterprise = card(owner, scorecard, segment_id=segment.pk)
    delete_segment(owner.actor, segment)
    enterprise = KpiCard.objects.get(pk=enterprise.pk)
    reading = read_cards(owner.workspace, [enterprise])[enterprise.pk]
    assert reading.value is None
    assert reading.problem.startswith("Its segment was deleted")


@pytest.mark.parametrize(
    ("value", "target", "direction", "tolerance", "status"),
    [
        (10, 10, "at_least", 0, ON_TRACK),
        (12, 10, "at_least", 0, ON_TRACK),
        (9, 10, "at_least", 2, AT_RISK),
        (8, 10, "at_least", 2, AT_RISK),
        (7.9, 10, "at_least", 2, OFF_TRACK),
        (9.99, 10, "at_least", 0, OFF_TRACK),
        (0, 0, "at_most", 5, ON_TRACK),
        (5, 0, "at_most", 5, AT_RISK),
        (6, 0, "at_most", 5, OFF_TRACK),
        (1, 0, "at_most", 0, OFF_TRACK),
        (66.66666666666667, 200 / 3, "at_least", 0, ON_TRACK),
        (3, None, "at_least", 0, NO_TARGET),
        (None, 10, "at_least", 0, NO_VALUE),
    ],
)
def test_status_compares_the_value_with_the_target_within_the_tolerance(
    value, target, direction, tolerance, status
):
    assert status_of(value, target, direction, tolerance) == status


@pytest.mark.parametrize(
    ("kind", "value", "text"),
    [
        ("count", 1204.0, "1,204"),
        ("percentage", 42.5, "42.5%"),
        ("percentage", 100 / 3, "33.3%"),
        ("percentage", 50.0, "50%"),
        ("sum", 1_250_000.0, "1.25M"),
        ("sum", 60000.0, "60,000"),
        ("average", 72.44, "72.4"),
        ("average", 0.25, "0.25"),
        ("average", 123.45, "123.5"),
        ("average", None, "—"),
    ],
)
def test_values_read_as_the_card_shows_them(kind, value, text):
    assert format_value(kind, value) == text
