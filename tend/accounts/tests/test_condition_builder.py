"""The condition builder: every valid condition drawn into rows and posted back by a browser
is the same condition; structural edits; rows with problems get their own errors; blank
rows are left out; conditions the rows cannot show stay in the JSON box."""

import datetime
import json
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from hypothesis import given, settings

from tend.accounts import condition_builder as cb
from tend.accounts.actions.accounts import create_account
from tend.accounts.actions.definitions.attributes import create_attribute
from tend.accounts.actions.definitions.roles import create_role
from tend.accounts.actions.definitions.stages import create_stage
from tend.accounts.conditions import account_catalog
from tend.accounts.tests.builder_forms import posted
from tend.accounts.tests.condition_checks import AGREEMENT, Population, random_conditions
from tend.lib.conditions import validate

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2025, 6, 16, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
P = "where"


@pytest.fixture
def catalog(owner, workspace):
    """Fields of every kind: built-ins, an owner role, and attributes of each type."""
    actor = owner.actor
    for spec in [
        {"key": "plan", "label": "Plan", "type": "enum", "options": ["free", "pro", "enterprise"]},
        {"key": "arr", "label": "ARR", "type": "currency"},
        {"key": "renewal", "label": "Renewal date", "type": "date"},
        {"key": "onboarded", "label": "Onboarded", "type": "boolean"},
        {"key": "notes", "label": "Notes", "type": "text"},
        {"key": "features", "label": "Features", "type": "multi_enum", "options": ["sso", "api"]},
    ]:
        create_attribute(actor, spec)
    create_stage(actor, {"name": "Onboarding"})
    create_role(actor, {"key": "success_manager", "name": "Success Manager"})
    create_account(
        actor,
        {
            "external_id": "acme",
            "name": "Acme, Inc.",
            "stage": "Onboarding",
            "tags": ["vip", "a, b"],
            "attributes": {"plan": "pro", "arr": 50_000.5, "renewal": "2025-07-01",
                           "onboarded": True, "notes": " spaced ", "features": ["sso"]},
        },
    )  # fmt: skip
    create_account(actor, {"external_id": "globex", "name": "Globex", "status": "trial"})
    return account_catalog(workspace)


def drawn(builder: cb.Builder, catalog, errors=None) -> str:
    return render_to_string(
        "accounts/condition_builder.html", {"cb": cb.view(builder, catalog, errors)}
    )


def round_trip(condition, catalog):
    """The condition drawn as rows, posted by a browser, read back."""
    data = posted(drawn(cb.from_condition(condition, P), catalog))
    return cb.to_condition(cb.read(data, P, catalog), catalog).condition


def in_option_order(condition, catalog):
    """The condition with each list of options as checkboxes post it: in the options' order,
    each once (the one change the rows make, and it means the same)."""
    if isinstance(condition, dict) and "field" not in condition:
        return {k: [in_option_order(c, catalog) for c in v] if isinstance(v, list)
                else in_option_order(v, catalog) for k, v in condition.items()}  # fmt: skip
    spec = catalog.get(condition["field"])
    if (
        isinstance(condition.get("value"), list)
        and condition["op"] in ("in", "not_in")
        and spec.options
    ):
        return {**condition, "value": [o for o in spec.options if o in condition["value"]]}
    return condition


def test_every_valid_condition_survives_the_rows_and_a_browser_unchanged(catalog, workspace):
    population = Population(workspace, catalog, NOW)

    @settings(AGREEMENT, max_examples=150)
    @given(random_conditions(population))
    def check(condition):
        assert round_trip(condition, catalog) == in_option_order(condition, catalog)

    check()


@pytest.mark.parametrize(
    "condition",
    [
        {"all": []},
        {"any": []},
        {"not": {"any": []}},
        {"all": [{"any": []}, {"field": "status", "op": "eq", "value": "paying"}]},
        {"field": "name", "op": "contains", "value": "acme"},
        {"not": {"not": {"field": "tags", "op": "in", "value": ["a, b", "vip"]}}},
        {"all": [{"field": "attributes.notes", "op": "eq", "value": " spaced "}]},
        {"all": [{"field": "attributes.arr", "op": "between", "value": [0.5, 1e20]}]},
        {"all": [{"field": "name", "op": "in", "value": ["Acme, Inc.", "Globex"]}]},
        {"all": [{"field": "attributes.onboarded", "op": "eq", "value": False}]},
        {"all": [{"field": "created_at", "op": "within_last_days", "value": 0}]},
    ],
)
def test_conditions_written_by_hand_survive_too(catalog, condition):
    assert round_trip(condition, catalog) == condition


def test_a_new_builder_is_one_blank_row_and_describes_no_condition(catalog):
    builder = cb.blank(P)
    assert [n.kind for _id, n in cb.walk(builder.root)] == ["all", "clause"]
    assert cb.to_condition(builder, catalog).condition is None


def test_blank_rows_and_groups_of_blank_rows_are_left_out(catalog):
    builder = cb.from_condition({"all": [{"field": "status", "op": "eq", "value": "paying"}]}, P)
    cb.apply(builder, "add_clause:r", catalog)
    cb.apply(builder, "add_group:r", catalog)
    draft = cb.to_condition(builder, catalog)
    assert draft.condition == {"all": [{"field": "status", "op": "eq", "value": "paying"}]}


def test_adding_a_group_alternates_all_and_any_and_starts_with_a_row(catalog):
    builder = cb.blank(P)
    cb.apply(builder, "add_group:r", catalog)
    group = builder.root.children[1]
    assert group.kind == "any" and [c.kind for c in group.children] == ["clause"]
    cb.apply(builder, "add_group:r_1", catalog)
    assert group.children[1].kind == "all"


def test_adding_to_a_lone_clause_wraps_it_in_a_group(catalog):
    builder = cb.from_condition({"field": "status", "op": "eq", "value": "paying"}, P)
    cb.apply(builder, "add_clause:r", catalog)
    assert builder.root.kind == "all"
    assert builder.root.children[0].field == "status"


def test_remove_and_not_edit_the_row_named(catalog):
    condition = {
        "all": [
            {"field": "status", "op": "eq", "value": "paying"},
            {"any": [{"field": "name", "op": "contains", "value": "a"}]},
        ]
    }
    builder = cb.from_condition(condition, P)
    cb.apply(builder, "not:r_1", catalog)
    assert cb.to_condition(builder, catalog).condition["all"][1] == {"not": condition["all"][1]}
    cb.apply(builder, "remove:r_0", catalog)
    cb.apply(builder, "remove:r", catalog)  # the root stays
    cb.apply(builder, "remove:r_7", catalog)  # a stale id changes nothing
    assert cb.to_condition(builder, catalog).condition == {"all": [{"not": condition["all"][1]}]}


def test_picking_another_field_starts_the_row_afresh_with_an_operator_it_takes(catalog):
    data = posted(
        drawn(
            cb.from_condition({"all": [{"field": "name", "op": "contains", "value": "ac"}]}, P),
            catalog,
        )
    )
    data[f"{P}-r_0-field"] = "attributes.arr"
    builder = cb.read(data, P, catalog)
    clause = builder.root.children[0]
    assert (clause.op, clause.values) == ("eq", [])


def test_json_and_back(catalog):
    condition = {"any": [{"field": "status", "op": "eq", "value": "trial"}, {"not": {"all": []}}]}
    builder = cb.from_condition(condition, P)
    cb.apply(builder, "json", catalog)
    assert builder.mode == "json" and json.loads(builder.text) == condition
    builder.text = json.dumps({"all": [{"field": "tags", "op": "is_set"}]})
    cb.apply(builder, "rows", catalog)
    assert builder.mode == "builder"
    assert cb.to_condition(builder, catalog).condition == {
        "all": [{"field": "tags", "op": "is_set"}]
    }


@pytest.mark.parametrize(
    "text, notice",
    [
        ("{nope", "not valid JSON"),
        ('{"all": {"field": "name"}}', "expected a list of conditions"),
        (
            '{"all": [{"field": "name", "op": "eq", "value": ["a"]}]}',
            "all.0.value: expected a single value",
        ),
        ('{"all": [{"field": "name", "op": "in", "value": "a"}]}', "all.0.value: expected a list"),
        ('{"all": [{"field": "name", "op": "is_set", "value": "a"}]}', "takes no value"),
    ],
)
def test_json_the_rows_cannot_show_stays_in_the_box_saying_why(catalog, text, notice):
    builder = cb.Builder(P, cb.Node(kind="all"), mode="json", text=text)
    cb.apply(builder, "rows", catalog)
    assert builder.mode == "json" and builder.text == text
    assert notice in builder.notice


def test_each_error_lands_under_its_own_row(catalog):
    condition = {
        "all": [
            {"field": "status", "op": "eq", "value": "paying"},
            {"not": {"any": [
                {"field": "attributes.arr", "op": "gt", "value": "lots"},
                {"field": "attributes.plan", "op": "in", "value": ["pro", "gold"]},
            ]}},
            {"field": "attributes.arr", "op": "between", "value": [5, 1]},
            {"field": "usage.event_7d", "op": "gt", "value": 1},
            {"field": "name", "op": "eq"},
        ]
    }  # fmt: skip
    builder = cb.from_condition(condition, P)
    draft = cb.to_condition(builder, catalog)
    errors = cb.node_errors(builder, draft, validate(draft.condition, catalog))
    assert errors == {
        "r_1_0": ["Value: expected a number, got 'lots'"],
        "r_1_1": ["Value: unknown option 'gold'; options: free, pro, enterprise"],
        "r_2": ["Value: the first value must not be above the second"],
        "r_3": ["Field: unknown field 'usage.event_7d'; did you mean 'usage.events_7d'?"],
        "r_4": ["Value is required"],
    }


def test_errors_count_rows_after_the_blank_ones_left_out(catalog):
    builder = cb.blank(P)  # a blank first row
    cb.apply(builder, "add_clause:r", catalog)
    second = builder.root.children[1]
    second.field, second.was, second.op, second.values = (
        "attributes.arr",
        "attributes.arr",
        "between",
        ["", "3"],
    )
    draft = cb.to_condition(builder, catalog)
    assert draft.condition == {
        "all": [{"field": "attributes.arr", "op": "between", "value": [None, 3]}]
    }
    errors = cb.node_errors(builder, draft, validate(draft.condition, catalog))
    assert errors == {"r_1": ["From is required"]}


def test_an_error_about_the_whole_condition_sits_on_the_root(catalog):
    rows = [cb.Node(field="tags", op="is_set", was="tags") for _ in range(201)]
    builder = cb.Builder(P, cb.Node(kind="all", children=rows))
    draft = cb.to_condition(builder, catalog)
    errors = cb.node_errors(builder, draft, validate(draft.condition, catalog))
    assert errors == {"r": ["Has 201 clauses; at most 200"]}
    # As JSON, too big for rows: the JSON box says why.
    assert "at most 200" in cb.from_condition(cb.to_condition(builder, catalog).condition, P).notice


def test_errors_of_an_action_are_read_under_their_prefix(catalog):
    builder = cb.from_condition({"any": [{"field": "status", "op": "eq", "value": "gold"}]}, P)
    draft = cb.to_condition(builder, catalog)
    problems = [
        type(e)(f"condition.{e.path}", e.message) for e in validate(draft.condition, catalog)
    ]
    assert list(cb.node_errors(builder, draft, problems, strip="condition")) == ["r_0"]


def test_the_rows_show_inputs_for_each_kind_of_value(catalog):
    condition = {
        "all": [
            {"field": "status", "op": "eq", "value": "paying"},
            {"field": "tags", "op": "in", "value": ["vip"]},
            {"field": "attributes.renewal", "op": "between", "value": ["2025-01-01", "2025-12-31"]},
            {"field": "attributes.onboarded", "op": "eq", "value": True},
            {"field": "name", "op": "in", "value": ["a", "b"]},
            {"field": "created_at", "op": "within_last_days", "value": 7},
            {"field": "name", "op": "is_set"},
        ]
    }
    html = drawn(cb.from_condition(condition, P), catalog)
    assert '<select name="where-r_0-value" id="where-r_0-value"' in html
    assert (
        '<input type="checkbox" name="where-r_1-value" value="vip" data-label="vip" checked>'
        in html
    )
    assert html.count('type="date"') == 2
    assert '<option value="true" selected>yes</option>' in html
    assert html.count('name="where-r_4-value"') == 3  # two values and a box for one more
    assert 'aria-label="Days"' in html and ">days</span>" in html
    assert 'name="where-r_6-value"' not in html


def test_describe_says_the_condition_in_words(catalog):
    condition = {
        "all": [
            {"field": "status", "op": "eq", "value": "paying"},
            {"any": [
                {"field": "attributes.plan", "op": "in", "value": ["pro", "enterprise"]},
                {"field": "attributes.onboarded", "op": "eq", "value": False},
            ]},
            {"not": {"field": "tags", "op": "is_set"}},
        ]
    }  # fmt: skip
    assert cb.describe(condition, catalog) == (
        "Status is paying and (Plan is any of pro, enterprise or Onboarded is no) "
        "and not (Tags is set)"
    )


def test_a_value_a_browser_would_empty_stays_visible_as_text(catalog):
    condition = {
        "all": [
            {"field": "attributes.arr", "op": "gt", "value": "lots"},
            {"field": "attributes.renewal", "op": "eq", "value": "10/03/2025"},
            {"field": "attributes.arr", "op": "gt", "value": 5},
        ]
    }
    html = drawn(cb.from_condition(condition, P), catalog)
    assert '<input type="text" name="where-r_0-value" id="where-r_0-value" value="lots"' in html
    assert '<input type="text" name="where-r_1-value" id="where-r_1-value" value="10/03/2025"' in html
    assert '<input type="number" step="any" name="where-r_2-value" id="where-r_2-value" value="5"' in html
    assert round_trip(condition, catalog) == condition
