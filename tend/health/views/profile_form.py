"""The profile editor's form: its state as the page shows it, read from a saved profile or
from a posted form, turned into the definition and condition the actions check, and the
structural edits (add, remove, move a dimension, a metric or a clause).

Field names are flat so that a plain form posts them: ``d-0-weight`` is the first
dimension's weight, ``d-0-m-1-good`` its second metric's good bound, ``c-2-value`` the
third clause's value. A rule-based profile is one dimension (``rules``) whose weights are
not shown. :func:`error_field` maps an action's error path (``definition.dimensions.0.
metrics.1.good``, ``condition.all.2.value``) back to the field it concerns, so errors
appear beside it.
"""

import json
import math
import re
from dataclasses import dataclass, field

from tend.health.scoring import DEFAULT_POINTS, DEFAULT_THRESHOLDS, parse_definition
from tend.health.sources import CATEGORY, MetricChoice
from tend.lib.conditions import OPERATORS, Catalog, FieldType, Shape

METRIC_KEYS = ("source", "label", "weight", "grading", "direction", "good", "poor", "low", "high", "missing")  # fmt: skip
PARAM_DEFAULTS = {"aggregate": "latest", "days": "30", "as": "days_until"}
DATE_AS = (("days_until", "Days until"), ("days_since", "Days since"))
AGGREGATE_LABELS = {
    "latest": "Latest value",
    "sum": "Sum over days",
    "avg": "Average over days",
    "change": "Change over days",
    "change_pct": "Change in % over days",
}
GRADES = ("good", "average", "poor")
# A new weighted dimension starts with the usage metric most profiles want.
STARTER_METRIC = {
    "source": "usage.active_days_14d",
    "grading": "thresholds",
    "direction": "higher",
    "good": 4,
    "poor": 1,
    "missing": "poor",
}


@dataclass
class MetricRow:
    source: str = ""
    label: str = ""
    weight: str = ""
    grading: str = "thresholds"
    direction: str = "higher"
    good: str = ""
    poor: str = ""
    low: str = ""
    high: str = ""
    missing: str = "ignore"
    params: dict = field(default_factory=dict)  # aggregate, days, as
    categories: dict = field(default_factory=dict)  # value → good / average / poor / ""


@dataclass
class DimensionRow:
    key: str = ""
    label: str = ""
    weight: str = ""
    metrics: list[MetricRow] = field(default_factory=list)


@dataclass
class Clause:
    field: str = ""
    op: str = ""
    value: str = ""
    value2: str = ""


@dataclass
class EditorState:
    name: str = ""
    description: str = ""
    kind: str = "rules"
    dimensions: list[DimensionRow] = field(default_factory=list)
    thresholds_good: str = ""
    thresholds_poor: str = ""
    points_good: str = ""
    points_average: str = ""
    points_poor: str = ""
    parent_mode: str = "own"
    parent_weight_attribute: str = ""
    condition_mode: str = "builder"  # or "json"
    match: str = "all"
    clauses: list[Clause] = field(default_factory=list)
    condition_json: str = ""
    note: str = ""


# --- from a saved profile ---------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _metric_row(raw: dict) -> MetricRow:
    return MetricRow(
        source=raw.get("source", ""),
        label=raw.get("label", "") or "",
        weight=_text(raw.get("weight")),
        grading=raw.get("grading", "thresholds"),
        direction=raw.get("direction", "higher"),
        good=_text(raw.get("good")),
        poor=_text(raw.get("poor")),
        low=_text(raw.get("low")),
        high=_text(raw.get("high")),
        missing=raw.get("missing", "ignore"),
        params={k: _text(v) for k, v in (raw.get("params") or {}).items()},
        categories=dict(raw.get("categories") or {}),
    )


def state_from_profile(profile, definition: dict) -> EditorState:
    """The editor's state for a saved profile and definition."""
    weighted = definition.get("kind") == "weighted"
    if weighted:
        dimensions = [
            DimensionRow(
                key=d.get("key", ""),
                label=d.get("label", "") or "",
                weight=_text(d.get("weight")),
                metrics=[_metric_row(m) for m in d.get("metrics") or []],
            )
            for d in definition.get("dimensions") or []
        ]
    else:
        metrics = [_metric_row(m) for m in definition.get("metrics") or []]
        dimensions = [DimensionRow(key="rules", label="Rules", weight="100", metrics=metrics)]
    thresholds = {**DEFAULT_THRESHOLDS, **(definition.get("thresholds") or {})}
    points = {**DEFAULT_POINTS, **(definition.get("points") or {})}
    parent = definition.get("parent") or {}
    state = EditorState(
        name=profile.name,
        description=profile.description,
        kind="weighted" if weighted else "rules",
        dimensions=dimensions,
        thresholds_good=_text(thresholds["good"]),
        thresholds_poor=_text(thresholds["poor"]),
        points_good=_text(points["good"]),
        points_average=_text(points["average"]),
        points_poor=_text(points["poor"]),
        parent_mode=parent.get("mode", "own"),
        parent_weight_attribute=parent.get("weight_attribute", "") or "",
    )
    _set_condition(state, profile.condition)
    return state


def _set_condition(state: EditorState, condition) -> None:
    """The builder when ``condition`` is one group of plain clauses, else JSON."""
    state.clauses, state.condition_json = [], ""
    if not condition:
        state.condition_mode, state.match = "builder", "all"
        return
    clauses = _clauses_of(condition)
    if clauses is None:
        state.condition_mode = "json"
        state.condition_json = json.dumps(condition, indent=2, ensure_ascii=False)
        return
    state.condition_mode = "builder"
    state.match = next(iter(condition))
    state.clauses = clauses


def _clauses_of(condition) -> list[Clause] | None:
    if not isinstance(condition, dict) or len(condition) != 1:
        return None
    match, items = next(iter(condition.items()))
    if match not in ("all", "any") or not isinstance(items, list):
        return None
    clauses = []
    for item in items:
        if not isinstance(item, dict) or set(item) - {"field", "op", "value"}:
            return None
        value = item.get("value")
        if isinstance(value, list):
            operator = OPERATORS.get(item.get("op"))
            if operator is not None and operator.shape == Shape.TWO and len(value) == 2:
                clauses.append(
                    Clause(item.get("field", ""), item["op"], _word(value[0]), _word(value[1]))
                )
                continue
            clauses.append(
                Clause(
                    item.get("field", ""), item.get("op", ""), ", ".join(_word(v) for v in value)
                )
            )
        elif isinstance(value, dict):
            return None
        else:
            clauses.append(Clause(item.get("field", ""), item.get("op", ""), _word(value)))
    return clauses


def _word(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _text(value)


# --- from a posted form -------------------------------------------------------------------------

_DIMENSION = re.compile(r"^d-(\d+)-key$")
_METRIC = re.compile(r"^d-(\d+)-m-(\d+)-source$")
_CLAUSE = re.compile(r"^c-(\d+)-field$")


def _indexes(data, pattern: re.Pattern, prefix_groups: tuple = ()) -> list[int]:
    found = set()
    for key in data:
        m = pattern.match(key)
        if m and m.groups()[: len(prefix_groups)] == tuple(str(g) for g in prefix_groups):
            found.add(int(m.groups()[-1]))
    return sorted(found)


def state_from_post(data) -> EditorState:
    """The editor's state from a posted form (a QueryDict); nothing is checked here."""
    get = lambda key, default="": (data.get(key) or default).strip()  # noqa: E731
    dimensions = []
    for d in _indexes(data, _DIMENSION):
        metrics = []
        for m in _indexes(data, _METRIC, (d,)):
            prefix = f"d-{d}-m-{m}-"
            row = MetricRow(**{k: get(prefix + k, getattr(MetricRow, k, "")) for k in METRIC_KEYS})
            row.params = {
                name: get(prefix + "p-" + name)
                for name in PARAM_DEFAULTS
                if (prefix + "p-" + name) in data
            }
            row.categories = {
                key.removeprefix(prefix + "cat-"): (value or "").strip()
                for key, value in data.items()
                if key.startswith(prefix + "cat-")
            }
            metrics.append(row)
        dimensions.append(
            DimensionRow(
                key=get(f"d-{d}-key"),
                label=get(f"d-{d}-label"),
                weight=get(f"d-{d}-weight"),
                metrics=metrics,
            )
        )
    clauses = [
        Clause(
            field=get(f"c-{c}-field"),
            op=get(f"c-{c}-op"),
            value=get(f"c-{c}-value"),
            value2=get(f"c-{c}-value2"),
        )
        for c in _indexes(data, _CLAUSE)
    ]
    return EditorState(
        name=get("name"),
        description=get("description"),
        kind=get("kind", "rules"),
        dimensions=dimensions,
        thresholds_good=get("thresholds_good"),
        thresholds_poor=get("thresholds_poor"),
        points_good=get("points_good"),
        points_average=get("points_average"),
        points_poor=get("points_poor"),
        parent_mode=get("parent_mode", "own"),
        parent_weight_attribute=get("parent_weight_attribute"),
        condition_mode=get("condition_mode", "builder"),
        match=get("match", "all"),
        clauses=clauses,
        condition_json=data.get("condition_json") or "",
        note=get("note"),
    )


# --- structural edits ----------------------------------------------------------------------


def _even(n: int) -> list[str]:
    """``n`` whole-number weights summing to 100 (the first ones take the remainder)."""
    if n == 0:
        return []
    base, extra = divmod(100, n)
    return [str(base + (1 if i < extra else 0)) for i in range(n)]


def _new_key(state: EditorState) -> str:
    taken = {d.key for d in state.dimensions}
    n = len(state.dimensions) + 1
    while f"dimension_{n}" in taken:
        n += 1
    return f"dimension_{n}"


def change_kind(state: EditorState, was: str) -> None:
    """Keep the metrics when the kind changes: rules → weighted puts them in one dimension
    with even weights; weighted → rules lists every metric once, linear bounds as
    thresholds (rules grade each metric Good/Average/Poor)."""
    if was == state.kind:
        return
    metrics = [m for d in state.dimensions for m in d.metrics]
    if state.kind == "weighted":
        for metric, weight in zip(metrics, _even(len(metrics)), strict=True):
            metric.weight = weight
        state.dimensions = [DimensionRow("usage", "Usage", "100", metrics)]
    else:
        for metric in metrics:
            if metric.grading == "linear":
                metric.grading = "thresholds"
                higher = metric.direction == "higher"
                metric.good, metric.poor = (
                    (metric.high, metric.low) if higher else (metric.low, metric.high)
                )
        state.dimensions = [DimensionRow("rules", "Rules", "100", metrics)]


def apply(state: EditorState, op: str) -> None:
    """A structural edit named by the button pressed: ``add_dimension``, ``remove_dimension:1``,
    ``up_metric:0:2``, ``add_clause`` … Unknown or out-of-range edits change nothing."""
    name, _, rest = op.partition(":")
    try:
        args = [int(a) for a in rest.split(":")] if rest else []
    except ValueError:
        return
    dims = state.dimensions
    try:
        if name == "add_dimension":
            dims.append(
                DimensionRow(_new_key(state), f"Dimension {len(dims) + 1}", "", [_starter()])
            )
        elif name == "remove_dimension" and len(dims) > 1:
            dims.pop(args[0])
        elif name in ("up_dimension", "down_dimension"):
            _move(dims, args[0], -1 if name == "up_dimension" else 1)
        elif name == "add_metric":
            metric = _starter()
            metric.weight = _left_over([m.weight for m in dims[args[0]].metrics])
            dims[args[0]].metrics.append(metric)
        elif name == "remove_metric":
            dims[args[0]].metrics.pop(args[1])
        elif name in ("up_metric", "down_metric"):
            _move(dims[args[0]].metrics, args[1], -1 if name == "up_metric" else 1)
        elif name == "add_clause":
            state.clauses.append(Clause())
        elif name == "remove_clause":
            state.clauses.pop(args[0])
        elif name == "json_condition":
            condition, _error = condition_from_state(state)
            state.condition_mode = "json"
            state.condition_json = json.dumps(condition, indent=2) if condition else ""
        elif name == "builder_condition":
            try:
                condition = (
                    json.loads(state.condition_json) if state.condition_json.strip() else None
                )
            except ValueError:
                return
            clauses = _clauses_of(condition) if condition else []
            if clauses is not None:
                state.condition_mode = "builder"
                state.match = next(iter(condition)) if condition else "all"
                state.clauses = clauses
    except IndexError:
        return


def _left_over(weights: list[str]) -> str:
    numbers = [number(w) for w in weights]
    used = sum(n for n in numbers if isinstance(n, int | float))
    return _text(max(0, round(100 - used, 2)))


def _starter() -> MetricRow:
    return _metric_row({**STARTER_METRIC, "weight": 100})


def _move(items: list, i: int, step: int) -> None:
    j = i + step
    if 0 <= i < len(items) and 0 <= j < len(items):
        items[i], items[j] = items[j], items[i]


# --- to a definition and a condition --------------------------------------------------------


def number(raw: str):
    """A number typed in a form: int when whole, float otherwise; "" is None; anything else
    stays text, so the check names the field ("expected a number")."""
    if raw == "":
        return None
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        return raw
    if not math.isfinite(value):
        return raw
    return int(value) if value.is_integer() and "." not in raw else value


def definition_from_state(state: EditorState, choices: dict[str, MetricChoice]) -> dict:
    """The definition the form describes (checked later by ``check_definition``)."""
    weighted = state.kind == "weighted"

    def metric(row: MetricRow) -> dict:
        out = {"source": row.source}
        if row.label:
            out["label"] = row.label
        choice = choices.get(row.source)
        params = {}
        for name in choice.params if choice else ():
            value = row.params.get(name) or PARAM_DEFAULTS[name]
            params[name] = int(value) if name == "days" and value.isdigit() else value
        if params:
            out["params"] = params
        if weighted:
            out["weight"] = number(row.weight)
        is_category = choice is not None and choice.kind == CATEGORY
        grading = "categories" if is_category else row.grading
        if grading == "categories" and not is_category:
            grading = "thresholds"
        out["grading"] = grading
        if grading == "thresholds":
            out.update(direction=row.direction, good=number(row.good), poor=number(row.poor))
        elif grading == "linear":
            out.update(direction=row.direction, low=number(row.low), high=number(row.high))
        else:
            out["categories"] = {k: v for k, v in row.categories.items() if v in GRADES}
        out["missing"] = row.missing
        return out

    definition: dict = {"kind": state.kind}
    if weighted:
        definition["dimensions"] = [
            {
                "key": d.key,
                "label": d.label or d.key,
                "weight": number(d.weight),
                "metrics": [metric(m) for m in d.metrics],
            }
            for d in state.dimensions
        ]
        definition["thresholds"] = {
            "good": number(state.thresholds_good),
            "poor": number(state.thresholds_poor),
        }
    else:
        definition["metrics"] = [metric(m) for d in state.dimensions for m in d.metrics]
    points = {
        "good": number(state.points_good),
        "average": number(state.points_average),
        "poor": number(state.points_poor),
    }
    if points != DEFAULT_POINTS:
        definition["points"] = points
    if state.parent_mode != "own":
        parent = {"mode": state.parent_mode}
        if state.parent_mode == "weighted":
            parent["weight_attribute"] = state.parent_weight_attribute
        definition["parent"] = parent
    return definition


def condition_from_state(state: EditorState, catalog: Catalog | None = None):
    """``(condition, error)``: the condition the builder or the JSON box describes (None for
    none), or an ``(field, message)`` error when the JSON does not parse."""
    if state.condition_mode == "json":
        text = state.condition_json.strip()
        if not text:
            return None, None
        try:
            return json.loads(text), None
        except ValueError as exc:
            return None, ("condition_json", f"is not valid JSON: {exc}")
    leaves = [_leaf(c, catalog) for c in state.clauses if c.field or c.op or c.value]
    if not leaves:
        return None, None
    return {state.match if state.match in ("all", "any") else "all": leaves}, None


def _leaf(clause: Clause, catalog: Catalog | None) -> dict:
    leaf = {"field": clause.field, "op": clause.op}
    operator = OPERATORS.get(clause.op)
    spec = catalog.get(clause.field) if catalog is not None else None
    kind = spec.type if spec is not None else FieldType.TEXT
    if operator is None:
        if clause.value:
            leaf["value"] = clause.value
        return leaf
    if operator.shape == Shape.NONE:
        return leaf
    if operator.shape == Shape.DAYS:
        leaf["value"] = _typed(FieldType.NUMBER, clause.value)
    elif operator.shape == Shape.TWO:
        leaf["value"] = [_typed(kind, clause.value), _typed(kind, clause.value2)]
    elif operator.shape == Shape.MANY:
        leaf["value"] = [_typed(kind, v.strip()) for v in clause.value.split(",") if v.strip()]
    else:
        leaf["value"] = _typed(kind, clause.value)
    return leaf


def _typed(kind: FieldType, raw: str):
    if raw == "":
        return None
    if kind == FieldType.NUMBER:
        return number(raw)
    if kind == FieldType.BOOLEAN:
        return {"true": True, "yes": True, "false": False, "no": False}.get(raw.lower(), raw)
    return raw


# --- errors beside their field ------------------------------------------------------------------


def error_field(path: str, state: EditorState) -> str:
    """The form field an action's error path names (``""`` when none fits: shown on top)."""
    parts = path.split(".")
    head = parts[0]
    if head in ("name", "description", "note"):
        return head
    if head == "definition":
        return _definition_field(parts[1:])
    if head == "condition":
        if state.condition_mode == "json":
            return "condition_json"
        rest = parts[1:]
        if len(rest) >= 3 and rest[0] in ("all", "any") and rest[1].isdigit():
            name = rest[2]
            if name == "value" and len(rest) >= 4 and rest[3] == "1":
                return f"c-{rest[1]}-value2"
            if name in ("field", "op", "value"):
                return f"c-{rest[1]}-{name}"
        return "condition"
    if head == "condition_json":
        return "condition_json"
    return ""


def _definition_field(parts: list[str]) -> str:
    if not parts:
        return ""
    head = parts[0]
    if head in ("thresholds", "points") and len(parts) > 1:
        return f"{head}_{parts[1]}"
    if head == "parent":
        return "parent_weight_attribute" if parts[-1] == "weight_attribute" else "parent_mode"
    if head == "kind":
        return "kind"
    if head == "metrics":  # rule-based: the one dimension
        parts = ["dimensions", "0", *parts]
    if parts[0] != "dimensions":
        return ""
    if len(parts) == 1:
        return "dimensions"
    d = parts[1]
    if len(parts) == 2:
        return f"d-{d}-key"
    if parts[2] != "metrics":
        return f"d-{d}-{parts[2]}"
    if len(parts) == 3:
        return f"d-{d}-metrics"
    m = parts[3]
    if len(parts) == 4:
        return f"d-{d}-m-{m}-source"
    name = parts[4]
    if name == "params":
        return f"d-{d}-m-{m}-params"
    if name == "categories":
        return f"d-{d}-m-{m}-categories"
    return f"d-{d}-m-{m}-{name}"


# --- what the page shows -------------------------------------------------------------------


def weight_sums(state: EditorState) -> dict[str, float | None]:
    """The sum of each dimension's metric weights and of the dimensions' weights, as typed
    (None where a weight is not a number)."""

    def total(values: list[str]):
        numbers = [number(v) for v in values]
        if any(not isinstance(n, int | float) for n in numbers):
            return None
        return round(sum(numbers), 2)

    sums: dict[str, float | None] = {
        f"d-{i}-metrics": total([m.weight for m in d.metrics])
        for i, d in enumerate(state.dimensions)
    }
    sums["dimensions"] = total([d.weight for d in state.dimensions])
    return sums


def grouped_choices(choices: list[MetricChoice]) -> list[tuple[str, list[MetricChoice]]]:
    groups: dict[str, list[MetricChoice]] = {}
    for choice in choices:
        groups.setdefault(choice.group, []).append(choice)
    return list(groups.items())


def definition_summary(definition: dict) -> str:
    """ "Weighted · 3 dimensions, 5 metrics" — for lists and history."""
    try:
        parsed = parse_definition(definition)
    except ValueError:
        return "Cannot be read"
    metrics = len(parsed.metrics)
    if parsed.kind == "rules":
        return f"Rule-based · {metrics} metric{'s' if metrics != 1 else ''}"
    dims = len(parsed.dimensions)
    return (
        f"Weighted · {dims} dimension{'s' if dims != 1 else ''}, "
        f"{metrics} metric{'s' if metrics != 1 else ''}"
    )


# What the selects offer, as (value, label); the values are the scorer's.
CHOICES = {
    "grading": (("thresholds", "Thresholds"), ("linear", "Linear between bounds")),
    "direction": (("higher", "Higher"), ("lower", "Lower")),
    "missing": (("ignore", "Ignore"), ("poor", "As Poor"), ("average", "As Average")),
    "parent_mode": (
        ("own", "Their own metrics"),
        ("mean", "The mean of their children"),
        ("weighted", "Their children, weighted by an attribute"),
    ),
    "aggregate": tuple(AGGREGATE_LABELS.items()),
    "as": DATE_AS,
    "grades": (("good", "Good"), ("average", "Average"), ("poor", "Poor")),
}


def condition_words(condition, catalog: Catalog) -> str:
    """A condition as a sentence: "Status is paying and Plan is any of growth, enterprise"."""
    if not condition:
        return ""
    if not isinstance(condition, dict):
        return "a condition that cannot be read"
    if "not" in condition:
        return f"not ({condition_words(condition['not'], catalog)})"
    for match, joiner in (("all", " and "), ("any", " or ")):
        if match in condition:
            items = condition[match] if isinstance(condition[match], list) else []
            if not items:
                return "every account" if match == "all" else "no account"
            parts = []
            for item in items:
                words = condition_words(item, catalog)
                nested = isinstance(item, dict) and ("all" in item or "any" in item)
                parts.append(f"({words})" if nested and len(items) > 1 else words)
            return joiner.join(parts)
    spec = catalog.get(condition.get("field"))
    label = spec.label if spec is not None else str(condition.get("field"))
    operator = OPERATORS.get(condition.get("op"))
    if operator is None:
        return f"{label} {condition.get('op')}"
    value = condition.get("value")
    if operator.shape == Shape.NONE:
        return f"{label} {operator.label}"
    if operator.shape == Shape.DAYS:
        return f"{label} {operator.label.replace('…', _word(value))}"
    if operator.is_change and isinstance(value, int | float) and not isinstance(value, bool):
        moved = "rose" if value > 0 else "fell"
        unit = " %" if operator.name == "changed_by_pct" else ""
        days = _word(condition.get("days"))
        return f"{label} {moved} by {_word(abs(value))}{unit} or more over {days} days"
    if operator.shape == Shape.TWO and isinstance(value, list) and len(value) == 2:
        return f"{label} between {_word(value[0])} and {_word(value[1])}"
    if isinstance(value, list):
        return f"{label} {operator.label} {', '.join(_word(v) for v in value)}"
    return f"{label} {operator.label} {_word(value)}"


FIELD_WORDS = {
    "name": "Name",
    "description": "Description",
    "kind": "Kind",
    "note": "Note",
    "thresholds_good": "Good from a score of",
    "thresholds_poor": "Poor below a score of",
    "points_good": "Points for Good",
    "points_average": "Points for Average",
    "points_poor": "Points for Poor",
    "parent_mode": "Parent accounts",
    "parent_weight_attribute": "Weight each child by",
    "dimensions": "Dimension weights",
    "condition": "Condition",
    "condition_json": "Condition",
}
METRIC_WORDS = {
    "source": "metric",
    "label": "label",
    "weight": "weight",
    "grading": "grading",
    "direction": "better when",
    "good": "Good bound",
    "poor": "Poor bound",
    "low": "low bound",
    "high": "high bound",
    "missing": "when missing",
    "params": "parameters",
    "categories": "grades of values",
}
_FIELD = re.compile(r"^d-(\d+)-(?:m-(\d+)-)?(.+)$")
_CLAUSE_FIELD = re.compile(r"^c-(\d+)-(field|op|value2?)$")


def field_words(name: str, state: EditorState) -> str:
    """A form field's name as a person reads it: "Usage › metric 2: Good bound"."""
    if name in FIELD_WORDS:
        return FIELD_WORDS[name]
    clause = _CLAUSE_FIELD.match(name)
    if clause:
        part = {"field": "field", "op": "operator"}.get(clause.group(2), "value")
        return f"Condition {int(clause.group(1)) + 1}: {part}"
    found = _FIELD.match(name)
    if not found:
        return name
    d, m, rest = int(found.group(1)), found.group(2), found.group(3)
    dimension = state.dimensions[d] if d < len(state.dimensions) else None
    if state.kind == "rules":
        where = "Metrics"
    else:
        where = (dimension.label or dimension.key) if dimension else f"Dimension {d + 1}"
    if m is None:
        words = {"metrics": "metric weights", "key": "key", "label": "name", "weight": "weight"}
        return f"{where}: {words.get(rest, rest)}"
    return f"{where} › metric {int(m) + 1}: {METRIC_WORDS.get(rest, rest)}"
