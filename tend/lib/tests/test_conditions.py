"""The condition language's pure parts, against a made-up catalog (``tend.lib`` imports no
app, not even in tests): validation names the clause, the evaluator's operators and null
rules, records read from stored values, and the shape of compiled filters.

Agreement of the compiled filter with the evaluator on real rows is tested where there are
rows: ``tend/accounts/tests/test_conditions_catalog.py`` and
``tend/usage/tests/test_usage_condition_fields.py``.
"""

import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Q

from tend.lib.conditions import (
    OPERATORS,
    Catalog,
    FieldSpec,
    FieldType,
    InvalidCondition,
    Storage,
    compile_q,
    compiling,
    evaluate,
    evaluating,
    fields_used,
    operators_for,
    require_valid,
    validate,
)
from tend.lib.conditions.compiling import EVERYTHING, NOTHING
from tend.lib.conditions.tree import MAX_CLAUSES, MAX_DEPTH

PARIS = ZoneInfo("Europe/Paris")
# Noon in Paris on 10 March 2025 (11:00 UTC).
NOW = datetime.datetime(2025, 3, 10, 12, 0, tzinfo=PARIS)


def holds_modules(values):
    return Q(modules__overlap=values) if values is not None else Q(modules__len__gt=0)


CATALOG = Catalog(
    [
        FieldSpec("name", FieldType.TEXT, "Name", lookup="name", get=lambda o: o.name),
        FieldSpec("arr", FieldType.NUMBER, "ARR", lookup="arr", get=lambda o: o.arr),
        FieldSpec(
            "plan",
            FieldType.ENUM,
            "Plan",
            lookup="plan",
            options=("free", "pro", "enterprise"),
            get=lambda o: o.plan,
        ),
        FieldSpec(
            "renewal",
            FieldType.DATE,
            "Renewal",
            lookup="renewal",
            storage=Storage.ISO_DATE,
            get=lambda o: o.renewal,
        ),
        FieldSpec(
            "last_seen",
            FieldType.DATETIME,
            "Last seen",
            lookup="last_seen_ms",
            storage=Storage.EPOCH_MS,
            get=lambda o: o.last_seen_ms,
        ),
        FieldSpec("created", FieldType.DATETIME, "Created", lookup="created"),
        FieldSpec("active", FieldType.BOOLEAN, "Active", lookup="active"),
        FieldSpec(
            "days_in_stage",
            FieldType.NUMBER,
            "Days in stage",
            lookup="entered",
            storage=Storage.DAYS_SINCE,
            get=lambda o: o.entered,
        ),
        FieldSpec(
            "modules",
            FieldType.MULTI_ENUM,
            "Modules",
            holds=holds_modules,
            get=lambda o: o.modules,
        ),
        FieldSpec(
            "owner",
            FieldType.TEXT,
            "Owner",
            lookup="owner_alias",
            aliases={"owner_alias": "an expression"},
        ),
    ]
)


def leaf(field, op, value=None, **extra):
    clause = {"field": field, "op": op, **extra}
    if value is not None:
        clause["value"] = value
    return clause


def errors_of(condition) -> dict[str, str]:
    return {e.path: e.message for e in validate(condition, CATALOG)}


# --- Validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        {"all": []},
        {"any": []},
        leaf("name", "contains", "acme"),
        leaf("arr", "between", [0, 50_000.5]),
        leaf("plan", "in", ["pro", "enterprise"]),
        leaf("renewal", "within_next_days", 30),
        leaf("last_seen", "more_than_days_ago", 14),
        leaf("created", "lte", "2025-01-31"),
        leaf("active", "eq", False),
        leaf("modules", "contains", "anything: modules take any text"),
        leaf("owner", "is_not_set"),
        leaf("owner", "is_set", None),
        {"not": {"any": [leaf("plan", "eq", "free"), {"all": [leaf("arr", "gt", 10)]}]}},
    ],
)
def test_valid_conditions_have_no_errors(condition):
    assert validate(condition, CATALOG) == []


@pytest.mark.parametrize(
    "condition, path, message",
    [
        ({"all": [leaf("arr", "gt", 1), leaf("nmae", "eq", "x")]}, "all.1.field",
         "unknown field 'nmae'; did you mean 'name'?"),
        ({"all": [leaf("arr", "bigger", 1)]}, "all.0.op", "unknown operator 'bigger'"),
        (leaf("name", "gt", "m"), "op", "'gt' does not apply to name (text); use one of eq, ne, in"),
        (leaf("active", "in", [True]), "op", "'in' does not apply to active (boolean)"),
        ({"any": [leaf("arr", "gte", "50000")]}, "any.0.value", "expected a number, got '50000'"),
        (leaf("arr", "gte", True), "value", "expected a number, got true"),
        (leaf("arr", "eq"), "value", "is required"),
        (leaf("arr", "eq", 2**60), "value", "is too large"),
        (leaf("arr", "between", [10, 5]), "value", "the first value must not be above the second"),
        (leaf("arr", "between", [10]), "value", "expected a list of two values: [low, high]"),
        (leaf("arr", "between", [1, "x"]), "value.1", "expected a number, got 'x'"),
        (leaf("renewal", "between", ["2025-02-01", "2025-01-01"]), "value",
         "the first value must not be above the second"),
        (leaf("plan", "eq", "gold"), "value", "unknown option 'gold'; options: free, pro, enterprise"),
        (leaf("plan", "in", ["pro", "gold"]), "value.1", "unknown option 'gold'"),
        (leaf("plan", "in", []), "value", "expected a non-empty list of values"),
        (leaf("plan", "in", "pro"), "value", "expected a non-empty list of values"),
        (leaf("name", "eq", "  "), "value", "must not be empty"),
        (leaf("name", "is_set", "x"), "value", "'is_set' takes no value"),
        (leaf("renewal", "eq", "2025-13-01"), "value", "expected a date as YYYY-MM-DD, got '2025-13-01'"),
        (leaf("renewal", "eq", "10/03/2025"), "value", "expected a date as YYYY-MM-DD"),
        (leaf("created", "gt", "0999-12-31"), "value", "expected a date in the years 1000 to 9998"),
        (leaf("last_seen", "within_last_days", -1), "value", "expected a whole number of days"),
        (leaf("last_seen", "within_last_days", 1.5), "value", "expected a whole number of days"),
        (leaf("arr", "eq", 1, days=30), "days", "is not taken by 'eq'"),
        ({"any": [{"not": {"all": [leaf("arr", "lt", "x")]}}]}, "any.0.not.all.0.value",
         "expected a number"),
        ({"all": leaf("arr", "eq", 1)}, "all", "expected a list of conditions"),
        ({"all": [], "any": []}, "", "'all' must be alone; remove 'any'"),
        ({"all": [[]]}, "all.0", "expected an object"),
        ({"all": [{"value": 1}]}, "all.0", 'expected "all", "any", "not", or a clause'),
        ({"all": [{"field": "arr", "value": 1}]}, "all.0.op", "is required"),
        ({"all": [{"field": 3, "op": "eq", "value": 1}]}, "all.0.field", "expected text"),
        ("arr > 5", "", "expected an object"),
    ],
)
def test_an_invalid_condition_names_the_clause_and_the_problem(condition, path, message):
    errors = errors_of(condition)
    assert path in errors, errors
    assert errors[path].startswith(message), errors[path]


def test_every_wrong_clause_is_reported_not_just_the_first():
    condition = {"all": [leaf("arr", "eq", "x"), leaf("name", "eq", "ok"), leaf("plan", "eq", "gold")]}
    assert sorted(errors_of(condition)) == ["all.0.value", "all.2.value"]


def test_a_condition_nested_too_deep_or_too_long_is_refused():
    deep = leaf("arr", "eq", 1)
    for _ in range(MAX_DEPTH):
        deep = {"not": deep}
    assert any("nested more than" in m for m in errors_of(deep).values())
    long = {"any": [leaf("arr", "eq", i) for i in range(MAX_CLAUSES + 1)]}
    assert errors_of(long) == {"": f"has {MAX_CLAUSES + 1} clauses; at most {MAX_CLAUSES}"}


def test_require_valid_raises_every_error_under_the_inputs_name():
    condition = {"all": [leaf("arr", "eq", "x"), leaf("plan", "eq", "gold")]}
    with pytest.raises(InvalidCondition) as caught:
        require_valid(condition, CATALOG, prefix="where")
    error = caught.value
    assert error.field == "where.all.0.value"
    assert error.as_dict() == {"field": "where.all.0.value", "message": "expected a number, got 'x'"}
    assert [e["field"] for e in error.as_dicts()] == ["where.all.0.value", "where.all.1.value"]


def test_an_error_about_the_whole_condition_is_named_after_the_input():
    errors = validate([], CATALOG)
    assert errors[0].as_dict("where") == {"field": "where", "message": errors[0].message}
    assert errors[0].field() == "condition"


# --- Evaluation ----------------------------------------------------------------------

RECORD = {
    "name": "Acme Corp",
    "arr": 60_000,
    "plan": "enterprise",
    "renewal": datetime.date(2025, 4, 1),
    # 23:30 UTC on 1 March is 00:30 on 2 March in Paris.
    "last_seen": datetime.datetime(2025, 3, 1, 23, 30, tzinfo=datetime.UTC),
    "active": True,
    "days_in_stage": 12,
    "modules": ["Reports", "Core"],
    "owner": None,
}


@pytest.mark.parametrize(
    "clause, expected",
    [
        (leaf("name", "eq", "Acme Corp"), True),
        (leaf("name", "eq", "acme corp"), False),  # equality is exact
        (leaf("name", "contains", "ACME"), True),  # contains and starts_with ignore case
        (leaf("name", "not_contains", "corp"), False),
        (leaf("name", "starts_with", "acme c"), True),
        (leaf("name", "starts_with", "corp"), False),
        (leaf("name", "in", ["Globex", "Acme Corp"]), True),
        (leaf("name", "not_in", ["Globex"]), True),
        (leaf("arr", "gt", 50_000), True),
        (leaf("arr", "gte", 60_000), True),
        (leaf("arr", "lt", 60_000), False),
        (leaf("arr", "lte", 60_000.0), True),
        (leaf("arr", "between", [60_000, 70_000]), True),
        (leaf("arr", "between", [60_000.5, 70_000]), False),
        (leaf("arr", "in", [1, 60_000]), True),
        (leaf("arr", "ne", 60_000), False),
        (leaf("plan", "eq", "enterprise"), True),
        (leaf("plan", "in", ["free", "pro"]), False),
        (leaf("plan", "not_in", ["free", "pro"]), True),
        (leaf("renewal", "eq", "2025-04-01"), True),
        (leaf("renewal", "gt", "2025-03-31"), True),
        (leaf("renewal", "within_next_days", 22), True),  # 10 March + 22 days = 1 April
        (leaf("renewal", "within_next_days", 21), False),
        (leaf("renewal", "within_last_days", 30), False),
        (leaf("last_seen", "eq", "2025-03-02"), True),  # the local day in Paris
        (leaf("last_seen", "eq", "2025-03-01"), False),
        (leaf("last_seen", "lte", "2025-03-02"), True),
        (leaf("last_seen", "lt", "2025-03-02"), False),
        (leaf("last_seen", "between", ["2025-03-02", "2025-03-02"]), True),
        (leaf("last_seen", "within_last_days", 9), True),  # 8 days 11½ hours ago
        (leaf("last_seen", "within_last_days", 8), False),
        (leaf("last_seen", "more_than_days_ago", 8), True),
        (leaf("last_seen", "within_next_days", 30), False),
        (leaf("active", "eq", True), True),
        (leaf("active", "ne", True), False),
        (leaf("days_in_stage", "gte", 12), True),
        (leaf("modules", "contains", "Core"), True),
        (leaf("modules", "contains", "core"), False),  # options match exactly
        (leaf("modules", "in", ["Admin", "Reports"]), True),
        (leaf("modules", "not_in", ["Admin"]), True),
        (leaf("modules", "is_set"), True),
    ],
)
def test_each_operator_on_a_present_value(clause, expected):
    assert evaluate(clause, RECORD, NOW) is expected


@pytest.mark.parametrize(
    "op, value, expected",
    [
        # Positive operators are false on a missing value …
        ("eq", "x", False),
        ("contains", "x", False),
        ("starts_with", "x", False),
        ("in", ["x"], False),
        ("is_set", None, False),
        # … and their negations are true.
        ("ne", "x", True),
        ("not_contains", "x", True),
        ("not_in", ["x"], True),
        ("is_not_set", None, True),
    ],
)
@pytest.mark.parametrize("missing", [None, "", "absent"])
def test_a_missing_value_fails_positive_operators_and_passes_their_negations(op, value, expected, missing):
    record = {} if missing == "absent" else {"owner": missing}
    assert evaluate(leaf("owner", op, value), record, NOW) is expected


@pytest.mark.parametrize("op", ["gt", "gte", "lt", "lte", "eq"])
def test_a_missing_number_is_neither_above_nor_below_anything(op):
    assert evaluate(leaf("arr", op, 0), {"arr": None}, NOW) is False
    assert evaluate({"not": leaf("arr", op, 0)}, {"arr": None}, NOW) is True


def test_an_empty_list_of_options_is_missing():
    assert evaluate(leaf("modules", "is_not_set"), {"modules": []}, NOW) is True
    assert evaluate(leaf("modules", "not_contains", "Core"), {"modules": []}, NOW) is True


def test_a_value_of_another_type_compares_as_missing():
    record = {"arr": "lots", "renewal": 5, "last_seen": "yesterday", "active": 1}
    assert evaluate(leaf("arr", "gt", 0), record, NOW) is False
    assert evaluate(leaf("arr", "ne", 0), record, NOW) is True
    assert evaluate(leaf("renewal", "within_last_days", 30), record, NOW) is False
    assert evaluate(leaf("last_seen", "gt", "2000-01-01"), record, NOW) is False
    assert evaluate(leaf("active", "eq", True), record, NOW) is False  # 1 is not true


def test_groups_combine_and_not_is_the_complement():
    yes, no = leaf("plan", "eq", "enterprise"), leaf("arr", "lt", 10)
    assert evaluate({"all": [yes, no]}, RECORD, NOW) is False
    assert evaluate({"any": [yes, no]}, RECORD, NOW) is True
    assert evaluate({"not": {"all": [yes, no]}}, RECORD, NOW) is True
    assert evaluate({"all": []}, RECORD, NOW) is True
    assert evaluate({"any": []}, RECORD, NOW) is False
    assert evaluate({"not": {"any": []}}, RECORD, NOW) is True


def test_the_examples_in_the_docs_read_as_they_say():
    paying_enterprise_not_seen = {
        "all": [
            leaf("plan", "eq", "enterprise"),
            leaf("last_seen", "more_than_days_ago", 14),
        ]
    }
    assert evaluate(paying_enterprise_not_seen, RECORD, NOW) is False
    quiet = {**RECORD, "last_seen": NOW - datetime.timedelta(days=15)}
    assert evaluate(paying_enterprise_not_seen, quiet, NOW) is True
    big = {"any": [leaf("plan", "eq", "enterprise"), leaf("arr", "gt", 50_000)]}
    assert evaluate(big, {"plan": "pro", "arr": 50_001}, NOW) is True
    assert evaluate(big, {"plan": "pro", "arr": 50_000}, NOW) is False


def test_evaluate_refuses_a_malformed_condition_and_a_naive_now():
    with pytest.raises(InvalidCondition) as caught:
        evaluate({"all": [{"field": "arr", "op": "above", "value": 1}]}, RECORD, NOW)
    assert caught.value.field == "all.0.op"
    with pytest.raises(ValueError, match="aware"):
        evaluate(leaf("arr", "gt", 1), RECORD, datetime.datetime(2025, 3, 10, 12))


# --- Records ---------------------------------------------------------------------------


def test_a_record_reads_stored_values_into_the_types_the_evaluator_compares():
    stored = SimpleNamespace(
        name="Acme",
        arr=12.5,
        plan="pro",
        renewal="2025-04-01",
        last_seen_ms=1_741_000_000_123,
        entered=NOW - datetime.timedelta(days=3, hours=23),
        modules=["Core", 7, "Reports"],
    )
    record = CATALOG.record(stored, NOW)
    assert record["arr"] == 12.5 and record["plan"] == "pro"
    assert record["renewal"] == datetime.date(2025, 4, 1)
    assert record["last_seen"] == datetime.datetime(2025, 3, 3, 11, 6, 40, 123_000, tzinfo=datetime.UTC)
    assert record["days_in_stage"] == 3  # whole days
    assert record["modules"] == ["Core", "Reports"]
    assert record["owner"] is None and record["created"] is None  # no getter: missing


def test_a_stored_value_of_the_wrong_type_reads_as_missing():
    stored = SimpleNamespace(
        name=42, arr=True, plan=None, renewal="soon", last_seen_ms="x", entered=None, modules="Core"
    )
    record = CATALOG.record(stored, NOW, names=["name", "arr", "renewal", "last_seen", "modules"])
    assert record == {"name": None, "arr": None, "renewal": None, "last_seen": None, "modules": None}


def test_prepare_applies_each_preparation_once_for_the_fields_asked():
    calls = []

    def with_usage(queryset):
        calls.append("usage")
        return queryset + ["usage"]

    catalog = Catalog(
        [
            FieldSpec("a", FieldType.NUMBER, "A", lookup="a", prepare=with_usage),
            FieldSpec("b", FieldType.NUMBER, "B", lookup="b", prepare=with_usage),
            FieldSpec("c", FieldType.NUMBER, "C", lookup="c", prepare=lambda q: q + ["c"]),
        ]
    )
    assert catalog.prepare([], ["a", "b"]) == ["usage"]
    assert catalog.prepare([]) == ["usage", "c"]
    assert calls == ["usage", "usage"]


def test_fields_used_lists_each_field_once_in_order():
    condition = {"any": [leaf("arr", "gt", 1), {"not": leaf("plan", "eq", "pro")}, leaf("arr", "lt", 9)]}
    assert fields_used(condition) == ["arr", "plan"]


def test_a_field_spec_refuses_storage_that_does_not_fit_its_type():
    with pytest.raises(ValueError, match="needs type datetime"):
        FieldSpec("x", FieldType.NUMBER, "X", lookup="x", storage=Storage.EPOCH_MS)
    with pytest.raises(ValueError, match="needs holds"):
        FieldSpec("x", FieldType.MULTI_ENUM, "X")
    with pytest.raises(ValueError, match="needs a lookup"):
        FieldSpec("x", FieldType.TEXT, "X")
    with pytest.raises(ValueError, match="two fields"):
        Catalog([FieldSpec("x", FieldType.TEXT, "X", lookup="x")] * 2)
    # A value_lookup is only right where the guard holds: it needs both, and no rows.
    with pytest.raises(ValueError, match="value_lookup needs an alias and present"):
        FieldSpec("x", FieldType.TEXT, "X", lookup="x", value_lookup="v", present=Q(x=1))
    with pytest.raises(ValueError, match="value_lookup needs an alias and present"):
        FieldSpec("x", FieldType.TEXT, "X", lookup="x", value_lookup="v", aliases={"v": "expr"})


# --- Compiling -----------------------------------------------------------------------

SET_ARR = Q(arr__isnull=False)


def test_compiling_refuses_an_invalid_condition_naming_the_clause():
    with pytest.raises(InvalidCondition) as caught:
        compile_q({"all": [leaf("arr", "gt", "x")]}, CATALOG, NOW)
    assert caught.value.field == "all.0.value"


def test_a_positive_clause_also_requires_the_value_to_be_set():
    assert compile_q(leaf("arr", "gt", 5), CATALOG, NOW).q == Q(arr__gt=5) & SET_ARR
    text_set = Q(name__isnull=False) & ~Q(name="")
    assert compile_q(leaf("name", "contains", "ac"), CATALOG, NOW).q == Q(name__icontains="ac") & text_set


def test_a_negating_operator_compiles_to_the_complement_of_its_positive():
    assert compile_q(leaf("arr", "ne", 5), CATALOG, NOW).q == ~(Q(arr=5) & SET_ARR)
    assert compile_q(leaf("arr", "is_not_set"), CATALOG, NOW).q == ~SET_ARR


def test_empty_groups_compile_to_everything_and_nothing():
    assert compile_q({"all": []}, CATALOG, NOW).q == EVERYTHING
    assert compile_q({"any": []}, CATALOG, NOW).q == NOTHING
    assert compile_q({"not": {"all": []}}, CATALOG, NOW).q == ~EVERYTHING


def test_a_day_on_a_datetime_field_covers_that_local_day_in_epoch_ms():
    compiled = compile_q(leaf("last_seen", "eq", "2025-03-02"), CATALOG, NOW)
    start = datetime.datetime(2025, 3, 1, 23, 0, tzinfo=datetime.UTC)  # midnight in Paris
    start_ms = int(start.timestamp()) * 1000
    expected = (
        Q(last_seen_ms__gte=start_ms)
        & Q(last_seen_ms__lt=start_ms + 86_400_000)
        & Q(last_seen_ms__isnull=False)
    )
    assert compiled.q == expected


def test_days_since_compiles_to_bounds_on_the_instant():
    ago = lambda n: NOW - datetime.timedelta(days=n)  # noqa: E731
    set_ = Q(entered__isnull=False)
    cases = {
        ("gte", 3): Q(entered__lte=ago(3)),
        ("gte", 2.5): Q(entered__lte=ago(3)),
        ("gt", 3): Q(entered__lte=ago(4)),
        ("gt", 2.5): Q(entered__lte=ago(3)),
        ("lte", 3): Q(entered__gt=ago(4)),
        ("lt", 3): Q(entered__gt=ago(3)),
        ("lt", 2.5): Q(entered__gt=ago(3)),
    }
    for (op, value), bound in cases.items():
        assert compile_q(leaf("days_in_stage", op, value), CATALOG, NOW).q == bound & set_, (op, value)


def test_a_fraction_against_a_whole_number_column_compiles_to_a_whole_bound():
    catalog = Catalog([FieldSpec("n", FieldType.NUMBER, "N", lookup="n", integer=True)])
    set_n = Q(n__isnull=False)
    cases = [
        ("gt", 2.5, Q(n__gt=2)),
        ("gt", -0.5, Q(n__gt=-1)),
        ("gte", 2.5, Q(n__gte=3)),
        ("lt", -0.5, Q(n__lt=0)),
        ("lte", 2.5, Q(n__lte=2)),
        ("eq", 3.0, Q(n=3)),
        ("eq", 2.5, NOTHING),
        ("in", [2.5, 4.0], Q(n__in=[4])),
        ("in", [2.5], NOTHING),
    ]
    for op, value, expected in cases:
        assert compile_q(leaf("n", op, value), catalog, NOW).q == expected & set_n, (op, value)
    with pytest.raises(ValueError, match="only a native number field"):
        FieldSpec("t", FieldType.TEXT, "T", lookup="t", integer=True)


def test_relative_dates_compile_to_iso_text_for_dates_stored_as_text():
    compiled = compile_q(leaf("renewal", "within_next_days", 30), CATALOG, NOW)
    expected = (
        Q(renewal__gte="2025-03-10") & Q(renewal__lte="2025-04-09") & Q(renewal__isnull=False)
    )
    assert compiled.q == expected


def test_multi_valued_fields_compile_through_holds():
    assert compile_q(leaf("modules", "contains", "Core"), CATALOG, NOW).q == holds_modules(["Core"])
    assert compile_q(leaf("modules", "not_in", ["A", "B"]), CATALOG, NOW).q == ~holds_modules(["A", "B"])
    assert compile_q(leaf("modules", "is_set"), CATALOG, NOW).q == holds_modules(None)


def test_compiling_collects_the_aliases_of_the_fields_used_only():
    assert compile_q(leaf("owner", "is_set"), CATALOG, NOW).aliases == {"owner_alias": "an expression"}
    assert compile_q(leaf("arr", "is_set"), CATALOG, NOW).aliases == {}


def test_every_operator_has_sql_and_a_test_or_negates_one_that_does():
    for op in OPERATORS.values():
        if op.negates:
            assert op.negates in OPERATORS and not OPERATORS[op.negates].negates, op.name
        elif op.is_change:  # SQL over the field's past relation (compiling.change_condition)
            assert op.name in evaluating._TESTS and op.extras == ("days",), op.name
        elif op.name != "is_set":
            assert op.name in compiling._SQL and op.name in evaluating._TESTS, op.name
        assert op.types, op.name


def test_each_type_has_set_tests_and_its_own_operators():
    assert [o.name for o in operators_for(FieldType.BOOLEAN)] == ["eq", "ne", "is_set", "is_not_set"]
    assert "starts_with" in [o.name for o in operators_for(FieldType.TEXT)]
    assert "within_last_days" in [o.name for o in operators_for(FieldType.DATETIME)]
    assert "gt" not in [o.name for o in operators_for(FieldType.MULTI_ENUM)]


# --- Fields whose values are ids -------------------------------------------------------

GROUPS_FIELD = FieldSpec(
    "group",
    FieldType.MULTI_ENUM,
    "Group",
    options=(3, 5),
    ids=True,
    operators=("in", "not_in"),
    holds=lambda ids: Q(groups__overlap=ids),
    get=lambda o: o.groups,
)
ID_CATALOG = Catalog([GROUPS_FIELD])


def test_an_id_field_takes_whole_numbers_that_exist_and_names_the_unknown_one():
    assert validate(leaf("group", "in", [3, 5]), ID_CATALOG) == []
    found = {e.path: e.message for e in validate(leaf("group", "in", [3, 9, "5", True]), ID_CATALOG)}
    assert found == {
        "value.1": "unknown group 9",
        "value.2": "expected the id of a group (a whole number), got '5'",
        "value.3": "expected the id of a group (a whole number), got true",
    }


def test_an_id_field_takes_only_the_operators_it_names():
    from tend.lib.conditions import field_operators

    assert [o.name for o in field_operators(GROUPS_FIELD)] == ["in", "not_in"]
    found = {e.path: e.message for e in validate(leaf("group", "contains", 3), ID_CATALOG)}
    assert found == {"op": "'contains' does not apply to group (multi_enum); use one of in, not_in"}
    assert validate(leaf("group", "is_set"), ID_CATALOG)[0].path == "op"


def test_an_id_field_reads_whole_numbers_and_the_evaluator_matches_them():
    record = ID_CATALOG.record(SimpleNamespace(groups=[3, "5", True, 7]), NOW)
    assert record == {"group": [3, 7]}
    assert evaluate(leaf("group", "in", [5, 3]), record, NOW) is True
    assert evaluate(leaf("group", "in", [5]), record, NOW) is False
    assert evaluate(leaf("group", "not_in", [5]), {"group": []}, NOW) is True


def test_only_an_enum_field_may_hold_ids():
    with pytest.raises(ValueError, match="holds ids"):
        FieldSpec("n", FieldType.NUMBER, "N", lookup="n", ids=True)
