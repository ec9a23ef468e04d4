"""The pure scorer, with every expectation worked out by hand."""

import math

import numpy as np
import pytest

from tend.health.scoring import (
    AVERAGE,
    GOOD,
    POOR,
    UNSCORED,
    DefinitionError,
    explain,
    parse_definition,
    roll_up_parents,
    score,
)

NAN = math.nan


def arr(*values):
    return np.array(values, dtype=float)


def cats(*values):
    return np.array(values, dtype=object)


CLASSIC = {
    "kind": "rules",
    "metrics": [
        {
            "source": "usage.active_days_14d",
            "good": 4,
            "poor": 1,
            "missing": "poor",
            "label": "Active days (14 d)",
        }
    ],
}


def test_the_classic_rule_grades_weekly_use_good_no_use_poor_and_the_rest_average():
    definition = parse_definition(CLASSIC)
    scored = score(definition, {"usage.active_days_14d": arr(9, 4, 3, 1, 0, NAN)})
    assert scored.rank.tolist() == [GOOD, GOOD, AVERAGE, AVERAGE, POOR, POOR]
    # Rule-based scores are the points of the rank: 100 / 60 / 0 by default.
    assert scored.score.tolist() == [100, 100, 60, 60, 0, 0]


def test_a_rule_based_account_is_poor_if_any_metric_is_poor_and_good_only_if_all_with_a_value_are():
    definition = parse_definition(
        {
            "kind": "rules",
            "metrics": [
                {"source": "a", "good": 10, "poor": 5},
                {"source": "b", "good": 0.5, "poor": 0.2, "direction": "higher"},
                {"source": "c", "good": 2, "poor": 8, "direction": "lower"},
            ],
        }
    )
    scored = score(
        definition,
        {
            "a": arr(10, 10, 7, 4, NAN, NAN),
            "b": arr(0.9, 0.9, 0.9, 0.9, 0.6, NAN),
            "c": arr(1, 5, 1, 1, NAN, NAN),
        },
    )
    # 1: all good · 2: c is average · 3: a is average · 4: a is poor · 5: only b, good
    # 6: nothing to grade (every missing value ignored)
    assert scored.rank.tolist() == [GOOD, AVERAGE, AVERAGE, POOR, GOOD, UNSCORED]
    assert math.isnan(scored.score[5])
    assert scored.grades["rules.2"].tolist() == [GOOD, AVERAGE, GOOD, GOOD, UNSCORED, UNSCORED]


@pytest.mark.parametrize(
    ("missing", "rank", "points"),
    [("ignore", UNSCORED, None), ("poor", POOR, 0.0), ("average", AVERAGE, 60.0)],
)
def test_a_missing_value_is_ignored_or_counts_as_poor_or_average(missing, rank, points):
    definition = parse_definition(
        {"kind": "rules", "metrics": [{"source": "a", "good": 2, "poor": 1, "missing": missing}]}
    )
    scored = score(definition, {"a": arr(NAN)})
    assert scored.rank.tolist() == [rank]
    got = scored.points["rules.0"][0]
    assert (math.isnan(got) and points is None) or got == points


WEIGHTED = {
    "kind": "weighted",
    "thresholds": {"good": 70, "poor": 40},
    "dimensions": [
        {
            "key": "usage",
            "label": "Usage",
            "weight": 60,
            "metrics": [
                {"source": "users", "weight": 50, "good": 5, "poor": 2, "label": "Active users"},
                {"source": "events", "weight": 50, "grading": "linear", "low": 0, "high": 100},
            ],
        },
        {
            "key": "support",
            "label": "Support",
            "weight": 40,
            "metrics": [
                {"source": "tickets", "weight": 100, "good": 1, "poor": 5, "direction": "lower"},
            ],
        },
    ],
}


def test_a_weighted_profile_averages_points_by_metric_then_by_dimension():
    definition = parse_definition(WEIGHTED)
    scored = score(
        definition,
        {"users": arr(6, 3, 1), "events": arr(100, 50, 0), "tickets": arr(0, 3, 9)},
    )
    # usage = (100 + 100) / 2, (60 + 50) / 2, (0 + 0) / 2; support = 100, 60, 0
    assert scored.dimensions["usage"].tolist() == [100, 55, 0]
    assert scored.dimensions["support"].tolist() == [100, 60, 0]
    # total = 0.6 usage + 0.4 support = 100, 57, 0 → good, average, poor
    assert scored.score.tolist() == pytest.approx([100, 57, 0])
    assert scored.rank.tolist() == [GOOD, AVERAGE, POOR]


def test_missing_values_renormalise_the_weights_of_the_others():
    definition = parse_definition(WEIGHTED)
    scored = score(definition, {"users": arr(6), "events": arr(NAN), "tickets": arr(NAN)})
    # only users is known: usage = 100, support has nothing → total is usage alone
    assert scored.dimensions["usage"].tolist() == [100]
    assert math.isnan(scored.dimensions["support"][0])
    assert scored.score.tolist() == [100]


def test_custom_points_change_what_a_grade_is_worth():
    definition = parse_definition({**WEIGHTED, "points": {"good": 100, "average": 50, "poor": 10}})
    scored = score(definition, {"users": arr(3), "events": arr(NAN), "tickets": arr(9)})
    # usage = 50 (users average), support = 10 (tickets poor) → 0.6·50 + 0.4·10 = 34
    assert scored.score.tolist() == pytest.approx([34])


def test_categories_grade_an_enum():
    definition = parse_definition(
        {
            "kind": "rules",
            "metrics": [
                {
                    "source": "usage.visit_frequency",
                    "grading": "categories",
                    "categories": {
                        "daily": "good",
                        "weekly": "good",
                        "occasionally": "average",
                        "inactive": "poor",
                    },
                    "missing": "poor",
                }
            ],
        }
    )
    scored = score(
        definition,
        {"usage.visit_frequency": cats("daily", "weekly", "occasionally", "inactive", None)},
    )
    assert scored.rank.tolist() == [GOOD, GOOD, AVERAGE, POOR, POOR]


def test_the_explanation_gives_each_contribution_and_what_would_lift_the_rank():
    definition = parse_definition(WEIGHTED)
    scored = score(definition, {"users": arr(3), "events": arr(50), "tickets": arr(3)})
    explanation = explain(definition, scored, 0)
    assert explanation["score"] == 57.0 and explanation["rank"] == "average"
    usage = explanation["dimensions"][0]
    assert (usage["score"], usage["weight"]) == (55.0, 60.0)
    users = usage["metrics"][0]
    # 60 points × 50% of usage × 60% of the total = 18 of the 57
    assert (
        users["value"],
        users["grade"],
        users["points"],
        users["weight"],
        users["contribution"],
    ) == (
        3.0,
        "average",
        60.0,
        50.0,
        18.0,
    )
    contributions = [m["contribution"] for d in explanation["dimensions"] for m in d["metrics"]]
    assert sum(contributions) == pytest.approx(57.0)
    # users at 5 (good): usage = 75, total = 0.6·75 + 0.4·60 = 69 — not enough;
    # tickets at 1 (good): total = 0.6·55 + 0.4·100 = 73 → good
    assert explanation["to_next_rank"] == [
        {"metric": "support.0", "label": "tickets", "from": 3.0, "to": 1.0, "rank": "good"}
    ]


def test_the_classic_rule_says_how_many_active_days_would_make_an_account_good():
    definition = parse_definition(CLASSIC)
    scored = score(definition, {"usage.active_days_14d": arr(2, 0)})
    assert explain(definition, scored, 0)["to_next_rank"] == [
        {"metric": "rules.0", "label": "Active days (14 d)", "from": 2.0, "to": 4.0, "rank": "good"}
    ]
    assert explain(definition, scored, 1)["to_next_rank"][0]["to"] == 1.0  # poor → average


def test_parents_can_take_the_plain_or_weighted_mean_of_their_children():
    ids = np.array([1, 2, 3, 4])
    parents = np.array([0, 1, 1, 2])  # 1 ← 2 ← 4, 1 ← 3
    own = arr(10, 80, 40, 20)
    weights = arr(0, 1, 3, 1)
    mean = parse_definition({**WEIGHTED, "parent": {"mode": "mean"}})
    # 2 takes its child 4 (20); 1 takes the mean of 2 (now 20) and 3 (40) = 30
    assert roll_up_parents(mean, ids, parents, own).tolist() == [30, 20, 40, 20]
    weighted = parse_definition(
        {**WEIGHTED, "parent": {"mode": "weighted", "weight_attribute": "contract_value"}}
    )
    # 1 = (20·1 + 40·3) / 4 = 35
    assert roll_up_parents(weighted, ids, parents, own, weights).tolist() == [35, 20, 40, 20]
    own_mode = parse_definition(WEIGHTED)
    assert roll_up_parents(own_mode, ids, parents, own).tolist() == own.tolist()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"kind": "score"}, "kind", "must be rules or weighted"),
        ({"dimensions": []}, "dimensions", "a weighted profile needs at least one dimension"),
        (
            {"thresholds": {"good": 30, "poor": 60}},
            "thresholds.poor",
            "must not be above the good threshold",
        ),
        ({"points": {"average": 120}}, "points.average", "must be between 0 and 100"),
        ({"parent": {"mode": "median"}}, "parent.mode", "must be one of own, mean, weighted"),
        ({"parent": {"mode": "weighted"}}, "parent.weight_attribute", "is required"),
    ],
)
def test_a_bad_definition_names_the_field(change, field, message):
    with pytest.raises(DefinitionError) as caught:
        parse_definition({**WEIGHTED, **change})
    assert (caught.value.field, caught.value.message) == (field, message)


def test_weights_must_sum_to_100_thresholds_must_be_in_order_and_sources_must_exist():
    bad_weights = {
        **WEIGHTED,
        "dimensions": [{**WEIGHTED["dimensions"][0], "weight": 70}, WEIGHTED["dimensions"][1]],
    }
    with pytest.raises(DefinitionError) as caught:
        parse_definition(bad_weights)
    assert caught.value.field == "dimensions" and "110" in caught.value.message
    upside_down = {"kind": "rules", "metrics": [{"source": "a", "good": 1, "poor": 5}]}
    with pytest.raises(DefinitionError) as caught:
        parse_definition(upside_down)
    assert caught.value.field == "metrics.0.poor"
    with pytest.raises(DefinitionError) as caught:
        parse_definition(CLASSIC, source_exists=lambda source: False)
    assert (caught.value.field, caught.value.message) == (
        "metrics.0.source",
        "no metric 'usage.active_days_14d'",
    )
    linear_rules = {
        "kind": "rules",
        "metrics": [{"source": "a", "grading": "linear", "low": 0, "high": 1}],
    }
    with pytest.raises(DefinitionError) as caught:
        parse_definition(linear_rules)
    assert caught.value.field == "metrics.0.grading"
