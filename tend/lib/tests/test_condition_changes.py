"""Change filters in the condition language's pure parts: validation names the clause and
says what is wrong, the evaluator's arithmetic and its missing-value and zero rules, the
records a condition needs, and the shape of the compiled filter (one uncorrelated
``pk IN`` over the field's past relation).

Their agreement with the database on real rows is tested where the rows are:
``tend/usage/tests/test_usage_change_filters.py`` and
``tend/health/tests/test_health_condition_fields.py``.
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db.models.expressions import RawSQL

from tend.lib.conditions import (
    CHANGE_DAYS,
    Catalog,
    FieldSpec,
    FieldType,
    compile_q,
    evaluate,
    field_operators,
    operators_for,
    past_key,
    record_keys,
    split_past_key,
    validate,
)

NOW = datetime.datetime(2025, 3, 10, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
RELATION = "SELECT id, events AS now_value, events_then AS then_value FROM t WHERE day = %s"


def relation(days, now, among):
    return RELATION, [days]


CATALOG = Catalog(
    [
        FieldSpec("events", FieldType.NUMBER, "Events", lookup="events", past=relation),
        FieldSpec("engagement", FieldType.NUMBER, "Engagement", lookup="engagement"),
        FieldSpec("name", FieldType.TEXT, "Name", lookup="name"),
    ]
)


def change(op, value=None, days=None, field="events"):
    clause = {"field": field, "op": op}
    if value is not None:
        clause["value"] = value
    if days is not None:
        clause["days"] = days
    return clause


def errors(condition) -> dict:
    return {e.path: e.message for e in validate(condition, CATALOG)}


# --- validation ----------------------------------------------------------------------------


def test_a_change_clause_over_an_allowed_span_with_a_rise_or_a_fall_is_valid():
    for days in CHANGE_DAYS:
        assert errors(change("changed_by_pct", -50, days)) == {}
        assert errors(change("changed_by", 2.5, days)) == {}


def test_days_are_required_and_must_be_one_of_the_spans():
    spans = "1, 3, 7, 14, 30, 90"
    assert errors(change("changed_by", 5)) == {"days": f"is required: one of {spans}"}
    assert errors(change("changed_by", 5, 5)) == {"days": f"expected one of {spans}, got 5"}
    assert errors(change("changed_by", 5, "30")) == {"days": f"expected one of {spans}, got '30'"}
    assert errors(change("changed_by", 5, 30.0)) == {"days": f"expected one of {spans}, got 30.0"}
    assert errors(change("changed_by", 5, True)) == {"days": f"expected one of {spans}, got true"}


def test_the_value_is_a_number_other_than_zero():
    assert errors(change("changed_by_pct", None, 30)) == {"value": "is required"}
    assert errors(change("changed_by_pct", "-50", 30)) == {
        "value": "expected a number, got '-50'"
    }
    assert errors(change("changed_by", 0, 30)) == {
        "value": "expected a rise above 0 or a fall below 0, not 0"
    }
    assert errors(change("changed_by", 2**60, 30)) == {
        "value": "is too large (at most 9,007,199,254,740,992 either way)"
    }
    # Both problems of one clause are reported.
    assert set(errors(change("changed_by", "x", 2))) == {"days", "value"}


def test_a_change_applies_only_to_a_number_field_whose_past_is_kept():
    found = errors(change("changed_by", 5, 30, field="engagement"))
    assert set(found) == {"op"}
    assert found["op"].startswith("'changed_by' does not apply to engagement (number); use one of eq")
    assert "changed_by" not in found["op"].split("use one of")[1]
    assert set(errors(change("changed_by_pct", 5, 30, field="name"))) == {"op"}


def test_errors_name_the_clause_by_its_path():
    condition = {"all": [change("changed_by", 5, 30), {"not": change("changed_by_pct", 0, 4)}]}
    assert errors(condition) == {
        "all.1.not.days": "expected one of 1, 3, 7, 14, 30, 90, got 4",
        "all.1.not.value": "expected a rise above 0 or a fall below 0, not 0",
    }


def test_days_are_taken_by_change_operators_only():
    assert errors({"field": "events", "op": "gt", "value": 5, "days": 30}) == {
        "days": "is not taken by 'gt'"
    }


def test_change_operators_are_listed_for_fields_with_a_past_only():
    names = [o.name for o in field_operators(CATALOG["events"])]
    assert names[-2:] == ["changed_by", "changed_by_pct"]
    assert "changed_by" not in [o.name for o in field_operators(CATALOG["engagement"])]
    assert "changed_by" not in [o.name for o in operators_for(FieldType.NUMBER)]


def test_only_a_number_field_can_have_a_past():
    with pytest.raises(ValueError, match="past values"):
        FieldSpec("name", FieldType.TEXT, "Name", lookup="name", past=relation)


# --- evaluating ----------------------------------------------------------------------------


def holds(op, value, now, then, days=30) -> bool:
    record = {"events": now, past_key("events", days): then}
    return evaluate(change(op, value, days), record, NOW)


@pytest.mark.parametrize(
    ("op", "value", "now", "then", "expected"),
    [
        # A positive value is the least rise, a negative one the least fall; both inclusive.
        ("changed_by", 10, 20, 10, True),
        ("changed_by", 10, 19, 10, False),
        ("changed_by", 10, 30, 10, True),
        ("changed_by", -5, 5, 10, True),
        ("changed_by", -5, 6, 10, False),
        ("changed_by", -5, 20, 10, False),
        ("changed_by", 0.5, 10.5, 10, True),
        # From 0, an absolute change is the value now.
        ("changed_by", 5, 5, 0, True),
        ("changed_by", -1, 0, 0, False),
        ("changed_by_pct", -50, 5, 10, True),
        ("changed_by_pct", -50, 6, 10, False),
        ("changed_by_pct", -50, 0, 10, True),
        ("changed_by_pct", 100, 20, 10, True),
        ("changed_by_pct", 100, 19.99, 10, False),
        ("changed_by_pct", -100, 0, 7, True),
        # No percentage of nothing: from 0, a percentage change is never met.
        ("changed_by_pct", 100, 10, 0, False),
        ("changed_by_pct", -100, 0, 0, False),
        # From a negative value the share is of its size: -10 → -5 is +50 %.
        ("changed_by_pct", 50, -5, -10, True),
        ("changed_by_pct", 51, -5, -10, False),
        ("changed_by_pct", -50, -15, -10, True),
    ],
)
def test_a_change_compares_the_value_now_with_the_value_then(op, value, now, then, expected):
    assert holds(op, value, now, then) is expected


def test_a_change_is_false_without_both_values_and_its_negation_true():
    for now, then in [(None, 10), (10, None), (None, None)]:
        assert holds("changed_by", -1, now, then) is False
        assert holds("changed_by_pct", 50, now, then) is False
        condition = {"not": change("changed_by", -1, 30)}
        assert evaluate(condition, {"events": now, past_key("events", 30): then}, NOW) is True


def test_the_value_then_is_read_for_the_clauses_span():
    record = {"events": 10, past_key("events", 7): 20, past_key("events", 30): 5}
    assert evaluate(change("changed_by", -10, 7), record, NOW) is True
    assert evaluate(change("changed_by", -10, 30), record, NOW) is False
    assert evaluate(change("changed_by", -10, 90), record, NOW) is False  # nothing read


def test_a_value_of_another_type_counts_as_missing():
    assert holds("changed_by", 1, "12", 10) is False
    assert holds("changed_by", 1, 12, True) is False


# --- records and compiling -----------------------------------------------------------------


def test_a_condition_needs_its_fields_and_each_change_clauses_value_then():
    condition = {
        "any": [
            change("changed_by", 5, 30),
            change("changed_by_pct", -50, 7),
            {"field": "events", "op": "gt", "value": 1},
            change("changed_by", 1, 30),
        ]
    }
    assert record_keys(condition) == ["events", "events@30", "events@7"]
    assert split_past_key("events@30") == ("events", 30)
    assert split_past_key("usage.events_7d@7") == ("usage.events_7d", 7)
    assert split_past_key("attributes.a@b") is None
    assert split_past_key("name") is None


def test_a_change_compiles_to_one_uncorrelated_subquery_over_the_fields_past_relation():
    compiled = compile_q(change("changed_by_pct", -50, 30), CATALOG, NOW)
    ((lookup, raw),) = compiled.q.children
    assert lookup == "pk__in" and isinstance(raw, RawSQL)
    assert raw.sql == (
        f"SELECT r.id FROM ({RELATION}) r WHERE r.now_value IS NOT NULL AND "  # noqa: S608
        "r.then_value IS NOT NULL AND r.then_value <> 0 AND "
        "(r.now_value - r.then_value) * 100 <= ABS(r.then_value) * CAST(%s AS DOUBLE PRECISION)"
    )
    assert list(raw.params) == [30, -50]
    rise = compile_q(change("changed_by", 2, 7), CATALOG, NOW).q.children[0][1]
    assert rise.sql.endswith("(r.now_value - r.then_value) >= CAST(%s AS DOUBLE PRECISION)")
    assert list(rise.params) == [7, 2]
    negated = compile_q({"not": change("changed_by", 2, 7)}, CATALOG, NOW).q
    assert negated.negated
