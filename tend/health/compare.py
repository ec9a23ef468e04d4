"""Comparing two definitions of a profile: what a new version changed, in its own terms.

:func:`compare` matches dimensions by key and, inside a dimension, metrics by what they read
(source and parameters; the same metric twice pairs up in order), and reports for each
whether it was added, removed, changed or left alone, with the fields that changed and their
values before and after — dimensions, metrics, thresholds, grading, weights, missing-value
rules — plus the profile-wide settings (kind, points, rank thresholds, parent mode). The API
answers it as JSON and the version history shows it side by side.
"""

from tend.health.scoring import (
    DEFAULT_POINTS,
    DEFAULT_THRESHOLDS,
    RANKS,
    Definition,
    MetricRule,
    parse_definition,
)

ADDED, REMOVED, CHANGED, UNCHANGED = "added", "removed", "changed", "unchanged"

SETTING_LABELS = {
    "kind": "Kind",
    "points.good": "Points for Good",
    "points.average": "Points for Average",
    "points.poor": "Points for Poor",
    "thresholds.good": "Good from score",
    "thresholds.poor": "Poor below score",
    "parent.mode": "Parent accounts",
    "parent.weight_attribute": "Parent weight attribute",
}
# The fields of a metric compared, in the order a person reads them.
METRIC_FIELDS = (
    "label",
    "weight",
    "grading",
    "direction",
    "good",
    "poor",
    "low",
    "high",
    "categories",
    "missing",
)


def _settings(definition: Definition) -> dict:
    return {
        "kind": definition.kind,
        **{f"points.{k}": definition.points[k] for k in DEFAULT_POINTS},
        **{f"thresholds.{k}": definition.thresholds[k] for k in DEFAULT_THRESHOLDS},
        "parent.mode": definition.parent_mode,
        "parent.weight_attribute": definition.parent_weight_attribute or None,
    }


def metric_fields(rule: MetricRule) -> dict:
    """A metric's settings as plain values (categories as value → grade)."""
    fields = {
        "label": rule.label,
        "weight": rule.weight,
        "grading": rule.grading,
        "direction": rule.direction,
        "good": rule.good,
        "poor": rule.poor,
        "low": rule.low,
        "high": rule.high,
        "categories": {value: RANKS[grade] for value, grade in rule.categories} or None,
        "missing": rule.missing,
    }
    return {name: fields[name] for name in METRIC_FIELDS}


def _metric(rule: MetricRule, status: str, before=None, after=None) -> dict:
    changes = [f for f in METRIC_FIELDS if before and after and before[f] != after[f]]
    return {
        "metric": rule.input_key,
        "source": rule.source,
        "params": dict(rule.params),
        "label": rule.label,
        "status": status if status != CHANGED or changes else UNCHANGED,
        "changes": changes,
        "before": before,
        "after": after,
    }


def _pair_metrics(before: tuple, after: tuple) -> list[dict]:
    """Metrics of one dimension paired by input key, in the order of the newer version
    (removed ones where they were)."""
    waiting: dict[str, list[MetricRule]] = {}
    for rule in before:
        waiting.setdefault(rule.input_key, []).append(rule)
    paired = []
    for rule in after:
        old = waiting.get(rule.input_key)
        if old:
            previous = old.pop(0)
            paired.append(_metric(rule, CHANGED, metric_fields(previous), metric_fields(rule)))
        else:
            paired.append(_metric(rule, ADDED, None, metric_fields(rule)))
    for rule in before:
        leftover = waiting.get(rule.input_key)
        if leftover and rule in leftover:
            leftover.remove(rule)
            paired.append(_metric(rule, REMOVED, metric_fields(rule), None))
    return paired


def _dimension(key, before, after) -> dict:
    metrics = _pair_metrics(before.metrics if before else (), after.metrics if after else ())
    shown = after or before
    fields_before = {"label": before.label, "weight": before.weight} if before else None
    fields_after = {"label": after.label, "weight": after.weight} if after else None
    changes = [
        f
        for f in ("label", "weight")
        if fields_before and fields_after and fields_before[f] != fields_after[f]
    ]
    if before is None:
        status = ADDED
    elif after is None:
        status = REMOVED
    elif changes or any(m["status"] != UNCHANGED for m in metrics):
        status = CHANGED
    else:
        status = UNCHANGED
    return {
        "key": key,
        "label": shown.label,
        "status": status,
        "changes": changes,
        "before": fields_before,
        "after": fields_after,
        "metrics": metrics,
    }


def compare(before: dict, after: dict) -> dict:
    """The structured difference between two saved definitions (JSON as stored)."""
    old, new = parse_definition(before), parse_definition(after)
    old_settings, new_settings = _settings(old), _settings(new)
    settings = [
        {
            "field": name,
            "label": SETTING_LABELS[name],
            "before": old_settings[name],
            "after": new_settings[name],
        }
        for name in SETTING_LABELS
        if old_settings[name] != new_settings[name]
    ]
    old_dims = {d.key: d for d in old.dimensions}
    new_dims = {d.key: d for d in new.dimensions}
    dimensions = [_dimension(d.key, old_dims.get(d.key), d) for d in new.dimensions]
    dimensions += [_dimension(d.key, d, None) for d in old.dimensions if d.key not in new_dims]
    return {
        "changed": bool(settings) or any(d["status"] != UNCHANGED for d in dimensions),
        "settings": settings,
        "dimensions": dimensions,
    }
