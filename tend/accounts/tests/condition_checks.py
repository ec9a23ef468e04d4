"""Checking that a compiled condition and the pure evaluator agree, on hand-built accounts.

``random_conditions`` draws conditions over a catalog with Hypothesis: fields of every
kind, every operator their type takes, values taken from (and just around) the values the
population holds, so that equalities, boundaries and missing values are all hit; nested
``all``/``any``/``not`` groups. Shared by the accounts and usage tests.
"""

import datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tend.accounts.conditions import account_records
from tend.accounts.models import Account
from tend.lib.conditions import (
    FieldType,
    Shape,
    compile_q,
    evaluate,
    operators_for,
    validate,
)

# Many examples, the same ones every run (CI must not flake), no example database on disk.
AGREEMENT = settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DAYS = [0, 1, 2, 3, 5, 7, 10, 14, 20, 29, 30, 31, 40, 90, 365, 400, 700]


class Population:
    """The accounts of a workspace, their records, and the catalog and instant to judge by."""

    def __init__(self, workspace, catalog, now):
        self.workspace = workspace
        self.catalog = catalog
        self.now = now
        self.accounts = Account.objects.filter(workspace=workspace)
        self.records = account_records(catalog, self.accounts, now)
        self.external_ids = dict(self.accounts.values_list("pk", "external_id"))

    def compiled(self, condition) -> set[str]:
        compiled = compile_q(condition, self.catalog, self.now)
        return {self.external_ids[pk] for pk in compiled.filter(self.accounts).values_list("pk", flat=True)}

    def evaluated(self, condition) -> set[str]:
        return {
            self.external_ids[pk]
            for pk, record in self.records.items()
            if evaluate(condition, record, self.now)
        }

    def matching(self, condition) -> set[str]:
        """The accounts matching ``condition``, after checking both ways agree."""
        assert validate(condition, self.catalog) == [], validate(condition, self.catalog)
        compiled, evaluated = self.compiled(condition), self.evaluated(condition)
        assert compiled == evaluated, (
            f"{condition}: only in SQL {sorted(compiled - evaluated)}, "
            f"only in Python {sorted(evaluated - compiled)}"
        )
        return compiled


def _pool(spec, records: list[dict], now) -> list:
    """Values a condition on ``spec`` may name: the population's and their neighbours."""
    seen = [r.get(spec.name) for r in records if r.get(spec.name) not in (None, "", [])]
    kind = spec.type
    if kind == FieldType.NUMBER:
        return sorted({v + d for v in [0, *seen] for d in (-1, -0.5, 0, 0.5, 1)})
    if kind in (FieldType.DATE, FieldType.DATETIME):
        days = {v.astimezone(now.tzinfo).date() if kind == FieldType.DATETIME else v for v in seen}
        days.add(now.date())
        return sorted({(d + datetime.timedelta(days=s)).isoformat() for d in days for s in (-1, 0, 1)})
    if kind == FieldType.BOOLEAN:
        return [True, False]
    if kind in (FieldType.ENUM, FieldType.MULTI_ENUM):
        if spec.options is not None:
            return list(spec.options) or ["none"]
        values = {item for v in seen for item in (v if isinstance(v, list) else [v])}
        return sorted(values | {"nothing-like-it"})
    texts = set(seen) | {"zzz"}
    for text in seen:
        texts |= {text[:3], text[1:4], text[-3:], text.upper(), text.lower()}
    return sorted(t for t in texts if t.strip())


def _days_pool(spec, records: list[dict], now) -> list[int]:
    """Numbers of days for relative-date clauses: the population's distances from now (so
    that boundaries are hit) and a few usual ones."""
    distances = set(DAYS)
    for record in records:
        value = record.get(spec.name)
        if isinstance(value, datetime.datetime):
            gap = abs(now - value)
            distances |= {gap.days, gap.days + 1} if gap % datetime.timedelta(days=1) else {gap.days}
        elif isinstance(value, datetime.date):
            distances.add(abs((now.date() - value).days))
    return sorted(d for d in distances if 0 <= d <= 36_500)


def random_conditions(population: Population, fields: list[str] | None = None):
    """A Hypothesis strategy of valid conditions over the population's catalog."""
    records = list(population.records.values())
    specs = [population.catalog[n] for n in (fields or list(population.catalog))]
    pools = {spec.name: _pool(spec, records, population.now) for spec in specs}
    day_pools = {spec.name: _days_pool(spec, records, population.now) for spec in specs}

    def leaf_for(spec):
        pool = pools[spec.name]

        def with_op(op):
            clause = {"field": spec.name, "op": op.name}
            if op.shape == Shape.NONE:
                return st.just(clause)
            if op.shape == Shape.DAYS:
                values = st.sampled_from(day_pools[spec.name])
            elif op.shape == Shape.ONE:
                values = st.sampled_from(pool)
            elif op.shape == Shape.TWO:
                values = st.lists(st.sampled_from(pool), min_size=2, max_size=2).map(sorted)
            else:
                values = st.lists(st.sampled_from(pool), min_size=1, max_size=3)
            return values.map(lambda value: {**clause, "value": value})

        return st.sampled_from(operators_for(spec.type)).flatmap(with_op)

    leaves = st.sampled_from(specs).flatmap(leaf_for)
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=3).map(lambda items: {"all": items}),
            st.lists(children, min_size=1, max_size=3).map(lambda items: {"any": items}),
            children.map(lambda child: {"not": child}),
        ),
        max_leaves=6,
    )
