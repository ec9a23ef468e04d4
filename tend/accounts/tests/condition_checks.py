"""Checking that a compiled condition and the pure evaluator agree, on hand-built accounts.

``random_conditions`` draws conditions over a catalog with Hypothesis: fields of every
kind, every operator their type takes, values taken from (and just around) the values the
population holds, so that equalities, boundaries and missing values are all hit; nested
``all``/``any``/``not`` groups; change clauses over every span, their values around the
changes the population shows. Shared by the accounts, usage and health tests.
"""

import datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tend.accounts.columns import cacheable, match_ids_uncached
from tend.accounts.models import Account
from tend.lib.conditions import (
    CHANGE_DAYS,
    FieldType,
    Shape,
    compile_q,
    evaluate,
    field_operators,
    past_key,
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
        # Every field, and every field's values as they were for each change span.
        pasts = [past_key(n, d) for n, spec in catalog.items() if spec.past for d in CHANGE_DAYS]
        self.records = catalog.records(self.accounts, now, [*catalog, *pasts])
        self.external_ids = dict(self.accounts.values_list("pk", "external_id"))
        self.vectored_count = 0  # conditions the column cache answered

    def compiled(self, condition) -> set[str]:
        compiled = compile_q(condition, self.catalog, self.now)
        return {self.external_ids[pk] for pk in compiled.filter(self.accounts).values_list("pk", flat=True)}

    def evaluated(self, condition) -> set[str]:
        return {
            self.external_ids[pk]
            for pk, record in self.records.items()
            if evaluate(condition, record, self.now)
        }

    def vectored(self, condition) -> set[str] | None:
        """The column cache's answer (``tend.accounts.columns``), or None where it defers to
        the database."""
        found = match_ids_uncached(self.workspace.pk, condition, self.catalog, self.now)
        return None if found is None else {self.external_ids[pk] for pk in found.tolist()}

    def matching(self, condition) -> set[str]:
        """The accounts matching ``condition``, after checking every way agrees: the compiled
        query, the pure evaluator and (when it answers) the column cache."""
        assert validate(condition, self.catalog) == [], validate(condition, self.catalog)
        compiled, evaluated = self.compiled(condition), self.evaluated(condition)
        assert compiled == evaluated, (
            f"{condition}: only in SQL {sorted(compiled - evaluated)}, "
            f"only in Python {sorted(evaluated - compiled)}"
        )
        vectored = self.vectored(condition)
        if vectored is not None:
            self.vectored_count += 1
            assert vectored == compiled, (
                f"{condition}: only in SQL {sorted(compiled - vectored)}, "
                f"only in the columns {sorted(vectored - compiled)}"
            )
        return compiled


def cached_fields(population: Population, prefixes: tuple[str, ...]) -> list[str]:
    """The fields the column cache holds (a ``column``) whose names start with ``prefixes``."""
    return [
        name
        for name, spec in population.catalog.items()
        if spec.column is not None and name.startswith(prefixes)
    ]


def check_cached(population: Population, condition) -> None:
    """The column cache answers ``condition`` unless it holds a change clause, and agrees
    with the compiled query and the pure evaluator."""
    before = population.vectored_count
    population.matching(condition)
    if cacheable(condition, population.catalog):
        assert population.vectored_count == before + 1, condition


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
    if spec.ids:  # ids (segments): the ones that exist, or none to name
        return list(spec.options or ())
    if kind in (FieldType.ENUM, FieldType.MULTI_ENUM):
        if spec.options is not None:
            return list(spec.options)
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


def _change_pool(spec, records: list[dict]) -> dict[str, list]:
    """Values for change clauses: the changes the population shows (absolute and in %) and
    their neighbours, so that each side of every boundary is hit; never 0."""
    changes, shares = {1, -1, 50, -50}, {1, -1, 50, -50, 100, -100}
    for record in records:
        now = record.get(spec.name)
        for days in CHANGE_DAYS:
            then = record.get(past_key(spec.name, days))
            if now is None or then is None:
                continue
            changes |= {now - then + d for d in (-0.5, 0, 0.5)}
            if then:
                share = (now - then) * 100 / abs(then)
                shares |= {share, share - 0.5, share + 0.5}
    return {
        "changed_by": sorted(v for v in changes if v),
        "changed_by_pct": sorted(v for v in shares if v),
    }


def random_conditions(population: Population, fields: list[str] | None = None):
    """A Hypothesis strategy of valid conditions over the population's catalog."""
    records = list(population.records.values())
    specs = [population.catalog[n] for n in (fields or list(population.catalog))]
    pools = {spec.name: _pool(spec, records, population.now) for spec in specs}
    day_pools = {spec.name: _days_pool(spec, records, population.now) for spec in specs}
    change_pools = {spec.name: _change_pool(spec, records) for spec in specs if spec.past}

    def usable(spec) -> list:
        # A field with nothing to name (segment ids in a workspace without segments) takes
        # only the operators that need no value.
        return [
            op
            for op in field_operators(spec)
            if pools[spec.name] or op.shape in (Shape.NONE, Shape.DAYS, Shape.CHANGE)
        ]

    def leaf_for(spec):
        pool = pools[spec.name]

        def with_op(op):
            clause = {"field": spec.name, "op": op.name}
            if op.shape == Shape.NONE:
                return st.just(clause)
            if op.is_change:
                return st.tuples(
                    st.sampled_from(change_pools[spec.name][op.name]), st.sampled_from(CHANGE_DAYS)
                ).map(lambda drawn: {**clause, "value": drawn[0], "days": drawn[1]})
            if op.shape == Shape.DAYS:
                values = st.sampled_from(day_pools[spec.name])
            elif op.shape == Shape.ONE:
                values = st.sampled_from(pool)
            elif op.shape == Shape.TWO:
                values = st.lists(st.sampled_from(pool), min_size=2, max_size=2).map(sorted)
            else:
                values = st.lists(st.sampled_from(pool), min_size=1, max_size=3)
            return values.map(lambda value: {**clause, "value": value})

        return st.sampled_from(usable(spec)).flatmap(with_op)

    leaves = st.sampled_from([spec for spec in specs if usable(spec)]).flatmap(leaf_for)
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=3).map(lambda items: {"all": items}),
            st.lists(children, min_size=1, max_size=3).map(lambda items: {"any": items}),
            children.map(lambda child: {"not": child}),
        ),
        max_leaves=6,
    )
