"""Health scoring: one pure function over all accounts at once (DESIGN rule 6).

A profile's *definition* (JSON, validated by :func:`parse_definition`) is either

* **rules**: every metric is graded Good / Average / Poor; the account is Poor if any metric
  is Poor, Good if every metric with a value is Good, Average otherwise; or
* **weighted**: dimensions with weights, each made of metrics with weights; a metric earns
  points (by grade: 100 / 60 / 0 by default, or linearly between two bounds), a dimension
  the weighted mean of its metrics' points, the account the weighted mean of its
  dimensions; the 0–100 score maps to a rank by two thresholds.

A metric is graded by **thresholds** (``good`` and ``poor`` bounds; ``direction`` says
whether higher or lower is better), **linearly** (points from 0 at one bound to 100 at the
other; weighted profiles only), or by **categories** (each value of an enum → a grade).
A missing value is ignored (the weights of the others are renormalised), or counts as Poor,
or as Average — per metric.

:func:`score` takes the definition and one array per input (aligned on the same accounts:
numbers as float arrays with NaN for missing, categories as object arrays with None) and
returns every intermediate result as arrays, so that the nightly run, incremental updates,
the live preview and the back-test share one code path, and :func:`explain` can say, for
one account, what each metric contributed and what would move it to the next rank.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

POOR, AVERAGE, GOOD, UNSCORED = 0, 1, 2, -1
RANKS = {GOOD: "good", AVERAGE: "average", POOR: "poor"}
RANK_CODES = {name: code for code, name in RANKS.items()}
GRADINGS = ("thresholds", "linear", "categories")
MISSING = ("ignore", "poor", "average")
DEFAULT_POINTS = {"good": 100.0, "average": 60.0, "poor": 0.0}
DEFAULT_THRESHOLDS = {"good": 70.0, "poor": 40.0}
PARENT_MODES = ("own", "mean", "weighted")
WEIGHT_TOLERANCE = 0.01


class DefinitionError(ValueError):
    """A definition that cannot be scored; ``field`` is a dotted path into the JSON."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class MetricRule:
    id: str  # unique in the profile: "<dimension key>.<position>"
    source: str  # e.g. "usage.active_users_14d", "attributes.renewal_date", "metrics.api_calls"
    params: tuple  # sorted (name, value) pairs the source needs: aggregate, days, as …
    label: str
    weight: float
    grading: str
    direction: str  # "higher" or "lower" is better
    good: float | None = None
    poor: float | None = None
    low: float | None = None
    high: float | None = None
    categories: tuple = ()  # (value, grade code) pairs
    missing: str = "ignore"

    @property
    def input_key(self) -> str:
        """The key of the input array this metric reads (metrics may share one)."""
        if not self.params:
            return self.source
        return self.source + "?" + "&".join(f"{k}={v}" for k, v in self.params)


@dataclass(frozen=True)
class Dimension:
    key: str
    label: str
    weight: float
    metrics: tuple[MetricRule, ...]


@dataclass(frozen=True)
class Definition:
    kind: str  # "rules" or "weighted"
    dimensions: tuple[Dimension, ...]
    points: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_POINTS))
    thresholds: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    parent_mode: str = "own"
    parent_weight_attribute: str = ""

    @property
    def metrics(self) -> list[MetricRule]:
        return [m for d in self.dimensions for m in d.metrics]

    def inputs(self) -> dict[str, MetricRule]:
        """One metric rule per distinct input (what the sources must provide)."""
        found: dict[str, MetricRule] = {}
        for metric in self.metrics:
            found.setdefault(metric.input_key, metric)
        return found


# --- parsing ---------------------------------------------------------------------------------


def _number(value, field: str, *, required: bool = True) -> float | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DefinitionError(field, "expected a number")
    return float(value)


def _text(value, field: str, *, required: bool = True, limit: int = 200) -> str:
    if value in (None, "") and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise DefinitionError(field, "is required")
    if len(value) > limit:
        raise DefinitionError(field, f"is longer than {limit} characters")
    return value.strip()


def _weights_sum_to_100(weights: list[float], field: str) -> None:
    total = sum(weights)
    if abs(total - 100) > WEIGHT_TOLERANCE:
        raise DefinitionError(field, f"weights must sum to 100%, not {total:g}%")


def _parse_metric(
    data, path: str, *, weighted: bool, source_exists: Callable[[str], bool]
) -> MetricRule:
    if not isinstance(data, dict):
        raise DefinitionError(path, "expected an object")
    source = _text(data.get("source"), f"{path}.source")
    if not source_exists(source):
        raise DefinitionError(f"{path}.source", f"no metric {source!r}")
    params = data.get("params") or {}
    if not isinstance(params, dict) or not all(isinstance(v, str | int) for v in params.values()):
        raise DefinitionError(f"{path}.params", "expected an object of text or whole numbers")
    grading = data.get("grading", "thresholds")
    if grading not in GRADINGS:
        raise DefinitionError(f"{path}.grading", f"must be one of {', '.join(GRADINGS)}")
    if grading == "linear" and not weighted:
        raise DefinitionError(f"{path}.grading", "linear scoring needs a weighted profile")
    direction = data.get("direction", "higher")
    if direction not in ("higher", "lower"):
        raise DefinitionError(f"{path}.direction", "must be higher or lower (which is better)")
    missing = data.get("missing", "ignore")
    if missing not in MISSING:
        raise DefinitionError(f"{path}.missing", f"must be one of {', '.join(MISSING)}")
    weight = _number(data.get("weight", 100 if not weighted else None), f"{path}.weight")
    if weight < 0:
        raise DefinitionError(f"{path}.weight", "must not be negative")
    rule = dict(
        source=source,
        params=tuple(sorted(params.items())),
        label=_text(data.get("label"), f"{path}.label", required=False) or source,
        weight=weight,
        grading=grading,
        direction=direction,
        missing=missing,
    )
    if grading == "thresholds":
        good = _number(data.get("good"), f"{path}.good")
        poor = _number(data.get("poor"), f"{path}.poor")
        if direction == "higher" and poor > good:
            raise DefinitionError(f"{path}.poor", "must not be above good when higher is better")
        if direction == "lower" and poor < good:
            raise DefinitionError(f"{path}.poor", "must not be below good when lower is better")
        rule.update(good=good, poor=poor)
    elif grading == "linear":
        low = _number(data.get("low"), f"{path}.low")
        high = _number(data.get("high"), f"{path}.high")
        if high <= low:
            raise DefinitionError(f"{path}.high", "must be above low")
        rule.update(low=low, high=high)
    else:
        categories = data.get("categories")
        if not isinstance(categories, dict) or not categories:
            raise DefinitionError(
                f"{path}.categories", "expected an object of value → good/average/poor"
            )
        pairs = []
        for value, grade in categories.items():
            if grade not in RANK_CODES:
                raise DefinitionError(f"{path}.categories.{value}", "must be good, average or poor")
            pairs.append((value, RANK_CODES[grade]))
        rule.update(categories=tuple(sorted(pairs)))
    return MetricRule(id="", **rule)


def parse_definition(
    data, *, source_exists: Callable[[str], bool] = lambda source: True
) -> Definition:
    """Check a profile definition and return it parsed; raise :class:`DefinitionError`
    naming the first field at fault. ``source_exists`` says whether a metric source is known."""
    if not isinstance(data, dict):
        raise DefinitionError("definition", "expected an object")
    kind = data.get("kind")
    if kind not in ("rules", "weighted"):
        raise DefinitionError("kind", "must be rules or weighted")
    weighted = kind == "weighted"
    points = {**DEFAULT_POINTS, **(data.get("points") or {})}
    for grade in DEFAULT_POINTS:
        points[grade] = _number(points[grade], f"points.{grade}")
        if not 0 <= points[grade] <= 100:
            raise DefinitionError(f"points.{grade}", "must be between 0 and 100")
    if not points["poor"] <= points["average"] <= points["good"]:
        raise DefinitionError("points.average", "points must rise from poor to average to good")
    thresholds = {**DEFAULT_THRESHOLDS, **(data.get("thresholds") or {})}
    for name in DEFAULT_THRESHOLDS:
        thresholds[name] = _number(thresholds[name], f"thresholds.{name}")
        if not 0 <= thresholds[name] <= 100:
            raise DefinitionError(f"thresholds.{name}", "must be between 0 and 100")
    if thresholds["poor"] > thresholds["good"]:
        raise DefinitionError("thresholds.poor", "must not be above the good threshold")
    parent = data.get("parent") or {}
    parent_mode = parent.get("mode", "own") if isinstance(parent, dict) else None
    if parent_mode not in PARENT_MODES:
        raise DefinitionError("parent.mode", f"must be one of {', '.join(PARENT_MODES)}")
    weight_attribute = ""
    if parent_mode == "weighted":
        weight_attribute = _text(parent.get("weight_attribute"), "parent.weight_attribute")

    if weighted:
        raw_dimensions = data.get("dimensions")
        if not isinstance(raw_dimensions, list) or not raw_dimensions:
            raise DefinitionError("dimensions", "a weighted profile needs at least one dimension")
    else:
        raw_metrics = data.get("metrics")
        if not isinstance(raw_metrics, list) or not raw_metrics:
            raise DefinitionError("metrics", "a rule-based profile needs at least one metric")
        raw_dimensions = [{"key": "rules", "label": "Rules", "weight": 100, "metrics": raw_metrics}]

    dimensions, keys = [], set()
    for d, raw in enumerate(raw_dimensions):
        path = f"dimensions.{d}" if weighted else "metrics"
        if not isinstance(raw, dict):
            raise DefinitionError(path, "expected an object")
        key = _text(raw.get("key"), f"{path}.key", limit=63) if weighted else "rules"
        if key in keys:
            raise DefinitionError(f"{path}.key", f"another dimension is already {key!r}")
        keys.add(key)
        raw_metrics = raw.get("metrics")
        if not isinstance(raw_metrics, list) or not raw_metrics:
            raise DefinitionError(f"{path}.metrics", "a dimension needs at least one metric")
        metrics = []
        for m, raw_metric in enumerate(raw_metrics):
            metric_path = f"{path}.metrics.{m}" if weighted else f"metrics.{m}"
            rule = _parse_metric(
                raw_metric, metric_path, weighted=weighted, source_exists=source_exists
            )
            metrics.append(MetricRule(**{**rule.__dict__, "id": f"{key}.{m}"}))
        if weighted:
            _weights_sum_to_100([m.weight for m in metrics], f"{path}.metrics")
        dimensions.append(
            Dimension(
                key=key,
                label=_text(raw.get("label"), f"{path}.label", required=False) or key,
                weight=_number(raw.get("weight", 100), f"{path}.weight"),
                metrics=tuple(metrics),
            )
        )
    if weighted:
        _weights_sum_to_100([d.weight for d in dimensions], "dimensions")
    return Definition(
        kind=kind,
        dimensions=tuple(dimensions),
        points=points,
        thresholds=thresholds,
        parent_mode=parent_mode,
        parent_weight_attribute=weight_attribute,
    )


# --- scoring ---------------------------------------------------------------------------------


@dataclass
class Scored:
    """Everything :func:`score` worked out, one array entry per account."""

    score: np.ndarray  # 0–100, NaN when unscored
    rank: np.ndarray  # GOOD / AVERAGE / POOR / UNSCORED
    dimensions: dict[str, np.ndarray]  # dimension key → 0–100 or NaN
    points: dict[str, np.ndarray]  # metric id → points or NaN
    grades: dict[str, np.ndarray]  # metric id → grade or UNSCORED
    values: dict[str, np.ndarray]  # metric id → the value read


def _grade_thresholds(rule: MetricRule, values: np.ndarray) -> np.ndarray:
    grades = np.full(values.shape, AVERAGE, dtype=np.int8)
    if rule.direction == "higher":
        grades[values >= rule.good] = GOOD
        grades[values < rule.poor] = POOR
    else:
        grades[values <= rule.good] = GOOD
        grades[values > rule.poor] = POOR
    return grades


def _linear_points(rule: MetricRule, values: np.ndarray) -> np.ndarray:
    share = (values - rule.low) / (rule.high - rule.low)
    if rule.direction == "lower":
        share = 1 - share
    return 100.0 * np.clip(share, 0, 1)


def _grade_metric(
    definition: Definition, rule: MetricRule, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(grades, points) of one metric for every account, missing values handled."""
    points_of = np.array(
        [definition.points["poor"], definition.points["average"], definition.points["good"]]
    )
    if rule.grading == "categories":
        table = dict(rule.categories)
        grades = np.array([table.get(v, UNSCORED) for v in values], dtype=np.int8)
        missing = grades == UNSCORED
    else:
        values = values.astype(float)
        missing = np.isnan(values)
        if rule.grading == "thresholds":
            grades = _grade_thresholds(rule, np.where(missing, 0, values))
        else:
            points = _linear_points(rule, np.where(missing, 0, values))
            good, poor = definition.thresholds["good"], definition.thresholds["poor"]
            grades = np.where(points >= good, GOOD, np.where(points < poor, POOR, AVERAGE)).astype(
                np.int8
            )
    if rule.grading != "linear":
        points = points_of[np.clip(grades, 0, 2)].astype(float)
    if rule.missing == "ignore":
        grades = np.where(missing, UNSCORED, grades).astype(np.int8)
        points = np.where(missing, np.nan, points)
    else:
        fill = POOR if rule.missing == "poor" else AVERAGE
        grades = np.where(missing, fill, grades).astype(np.int8)
        points = np.where(missing, points_of[fill], points)
    return grades, points


def _weighted_mean(columns: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """Per account, the mean of the columns with a value, weighted and renormalised."""
    if not columns:
        return np.array([])
    stacked = np.vstack(columns)
    w = np.array(weights, dtype=float)[:, None] * ~np.isnan(stacked)
    total = w.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(stacked * w, axis=0) / total
    return np.where(total > 0, mean, np.nan)


def score(definition: Definition, inputs: Mapping[str, np.ndarray]) -> Scored:
    """Score every account. ``inputs`` maps each metric's ``input_key`` to its values."""
    n = len(next(iter(inputs.values()))) if inputs else 0
    grades, points, values, dimensions = {}, {}, {}, {}
    for dimension in definition.dimensions:
        for rule in dimension.metrics:
            values[rule.id] = inputs[rule.input_key]
            grades[rule.id], points[rule.id] = _grade_metric(definition, rule, values[rule.id])
        dimensions[dimension.key] = _weighted_mean(
            [points[m.id] for m in dimension.metrics], [m.weight for m in dimension.metrics]
        )
    if definition.kind == "rules":
        table = np.vstack([grades[m.id] for m in definition.metrics]) if n else np.zeros((0, 0))
        graded = (table != UNSCORED).any(axis=0) if n else np.zeros(0, bool)
        any_poor = (table == POOR).any(axis=0) if n else np.zeros(0, bool)
        all_good = ((table == GOOD) | (table == UNSCORED)).all(axis=0) if n else np.zeros(0, bool)
        rank = np.where(any_poor, POOR, np.where(all_good, GOOD, AVERAGE))
        rank = np.where(graded, rank, UNSCORED).astype(np.int8)
        points_of = np.array(
            [definition.points["poor"], definition.points["average"], definition.points["good"]]
        )
        total = np.where(rank == UNSCORED, np.nan, points_of[np.clip(rank, 0, 2)])
    else:
        total = _weighted_mean(
            [dimensions[d.key] for d in definition.dimensions],
            [d.weight for d in definition.dimensions],
        )
        rank = rank_of(definition, total)
    return Scored(
        score=total, rank=rank, dimensions=dimensions, points=points, grades=grades, values=values
    )


def rank_of(definition: Definition, scores: np.ndarray) -> np.ndarray:
    """Ranks from 0–100 scores by the profile's thresholds (UNSCORED where NaN)."""
    good, poor = definition.thresholds["good"], definition.thresholds["poor"]
    rank = np.where(scores >= good, GOOD, np.where(scores < poor, POOR, AVERAGE))
    return np.where(np.isnan(scores), UNSCORED, rank).astype(np.int8)


def roll_up_parents(
    definition: Definition,
    ids: np.ndarray,
    parents: np.ndarray,
    scores: np.ndarray,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Scores where parent accounts take their children's (plain or weighted mean), for a
    profile whose parent mode says so; leaves and ``own`` parents keep their own score.

    ``parents[i]`` is the parent id of ``ids[i]`` (0 for none). Children are scored before
    their parents (deepest first), so a grandparent rolls up its children's roll-ups.
    """
    if definition.parent_mode == "own" or not len(ids):
        return scores
    result = scores.astype(float).copy()
    position = {account: i for i, account in enumerate(ids.tolist())}
    children: dict[int, list[int]] = {}
    for i, parent in enumerate(parents.tolist()):
        if parent and parent in position:
            children.setdefault(position[parent], []).append(i)
    depth = {}

    def depth_of(i: int, seen=()) -> int:
        if i not in depth:
            kids = [k for k in children.get(i, []) if k not in seen]
            depth[i] = 1 + max((depth_of(k, (*seen, i)) for k in kids), default=-1)
        return depth[i]

    for i in sorted(children, key=depth_of):
        kids = children[i]
        kid_scores = result[kids]
        kid_weights = (
            np.ones(len(kids))
            if weights is None or definition.parent_mode == "mean"
            else np.nan_to_num(weights[kids])
        )
        usable = ~np.isnan(kid_scores) & (kid_weights > 0)
        if usable.any():
            result[i] = float(np.average(kid_scores[usable], weights=kid_weights[usable]))
    return result


# --- explanation -----------------------------------------------------------------------------


def explain(definition: Definition, scored: Scored, i: int) -> dict:
    """Account ``i``: each dimension and metric with its value, grade, points, effective
    weight and contribution to the total, and what would move it to the next rank."""
    dims = []
    dimension_weights = _effective([scored.dimensions[d.key][i] for d in definition.dimensions],
                                   [d.weight for d in definition.dimensions])  # fmt: skip
    for dimension, dim_weight in zip(definition.dimensions, dimension_weights, strict=True):
        metric_weights = _effective([scored.points[m.id][i] for m in dimension.metrics],
                                    [m.weight for m in dimension.metrics])  # fmt: skip
        metrics = []
        for rule, weight in zip(dimension.metrics, metric_weights, strict=True):
            points = scored.points[rule.id][i]
            metrics.append(
                {
                    "id": rule.id,
                    "source": rule.source,
                    "label": rule.label,
                    "value": _plain(scored.values[rule.id][i]),
                    "grade": RANKS.get(int(scored.grades[rule.id][i])),
                    "points": None if np.isnan(points) else round(float(points), 1),
                    "weight": round(100 * weight, 1),
                    "contribution": None
                    if np.isnan(points) or definition.kind == "rules"
                    else round(float(points * weight * dim_weight), 1),
                }
            )
        value = scored.dimensions[dimension.key][i]
        dims.append(
            {
                "key": dimension.key,
                "label": dimension.label,
                "score": None if np.isnan(value) else round(float(value), 1),
                "weight": round(100 * dim_weight, 1),
                "metrics": metrics,
            }
        )
    total = scored.score[i]
    return {
        "score": None if np.isnan(total) else round(float(total), 1),
        "rank": RANKS.get(int(scored.rank[i])),
        "dimensions": dims,
        "to_next_rank": to_next_rank(definition, scored, i),
    }


def _effective(values: list[float], weights: list[float]) -> list[float]:
    """Each weight's share among those whose value is known (what the mean really used)."""
    known = [
        w if not (isinstance(v, float) and math.isnan(v)) else 0.0
        for v, w in zip(values, weights, strict=True)
    ]
    total = sum(known)
    return [w / total if total else 0.0 for w in known]


def _plain(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def to_next_rank(definition: Definition, scored: Scored, i: int) -> list[dict]:
    """Single-metric changes that would lift account ``i`` one rank, smallest first:
    ``{"metric", "label", "from", "to", "rank"}`` — e.g. active users 2 → 5 gives Good.

    Rule-based: a Poor account rises to Average when its one Poor metric reaches its poor
    bound; an Average one to Good when its one metric below Good reaches its good bound (when
    several hold it back, no single change is enough and none is offered). Weighted: each
    threshold-graded metric whose reaching Good alone lifts the score past the next threshold.
    """
    rank = int(scored.rank[i])
    if rank in (GOOD, UNSCORED):
        return []
    target = rank + 1
    graded = [(rule, int(scored.grades[rule.id][i])) for rule in definition.metrics]
    if definition.kind == "rules":
        holding = [
            rule for rule, grade in graded if grade == POOR or (target == GOOD and grade == AVERAGE)
        ]
        if len(holding) != 1 or holding[0].grading != "thresholds":
            return []
        rule = holding[0]
        candidates = [(rule, rule.poor if target == AVERAGE else rule.good)]
    else:
        candidates = [
            (rule, rule.good)
            for rule, grade in graded
            if rule.grading == "thresholds"
            and grade != GOOD
            and _lifts(definition, scored, i, rule, target)
        ]
    moves = [
        {
            "metric": rule.id,
            "label": rule.label,
            "from": _plain(scored.values[rule.id][i]),
            "to": needed,
            "rank": RANKS[target],
        }  # fmt: skip
        for rule, needed in candidates
    ]
    return sorted(moves, key=lambda m: abs((m["to"] or 0) - (m["from"] or 0)))


def _lifts(definition: Definition, scored: Scored, i: int, rule: MetricRule, target: int) -> bool:
    """Whether grading this one metric Good lifts a weighted account to ``target``."""
    dims = {d.key: scored.dimensions[d.key][i] for d in definition.dimensions}
    for dimension in definition.dimensions:
        if rule in dimension.metrics:
            points = [scored.points[m.id][i] for m in dimension.metrics]
            points[dimension.metrics.index(rule)] = definition.points["good"]
            dims[dimension.key] = _weighted_mean([np.array([p]) for p in points],
                                                 [m.weight for m in dimension.metrics])[0]  # fmt: skip
    total = _weighted_mean([np.array([dims[d.key]]) for d in definition.dimensions],
                           [d.weight for d in definition.dimensions])[0]  # fmt: skip
    return int(rank_of(definition, np.array([total]))[0]) >= target
