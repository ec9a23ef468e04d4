"""The condition language: which accounts (or any population) a segment, play, alert,
scorecard or health profile is about. DESIGN rule 5: conditions are data plus a pure
evaluator, compiled to one database filter for a whole population.

A condition is JSON::

    {"all": [ … ]}   {"any": [ … ]}   {"not": <condition>}             groups, nestable
    {"field": "usage.last_seen", "op": "more_than_days_ago", "value": 14}   a clause

``{"all": []}`` is every record and ``{"any": []}`` none. See ``docs/conditions.md`` for
every field kind and operator with examples.

The three calls
---------------

* ``validate(condition, catalog) -> list[ConditionError]`` — every problem, each naming its
  clause by path (``all.2.value``) and saying what is wrong; ``require_valid`` raises them
  as an ``InvalidCondition`` (an ``InvalidInput``, so the API answers 422 naming the field).
* ``compile_q(condition, catalog, now) -> Compiled`` — a ``Q`` plus the aliases it needs;
  ``compiled.filter(queryset)`` filters a population in one query. Compiling runs none.
* ``evaluate(condition, record, now) -> bool`` — the same answer for one record, a dict
  of field name → value as ``catalog.record(obj, now)`` builds it.

``now`` is an aware datetime in the workspace's time zone: its date is "today" for date
fields, its zone says which instants a date value such as ``"2025-03-01"`` covers for a
datetime field. The catalog — the fields of a population and how the database and Python
read each — comes from the app that owns the population (``tend.accounts.conditions``).

Missing values (null semantics)
-------------------------------

A value is missing when it is null, absent, empty text, or (multi-valued fields) holds
nothing. Every clause is true or false, never unknown:

* ``is_set`` is false and ``is_not_set`` true on a missing value;
* every other positive operator (``eq``, ``gt`` … ``between``, ``in``, ``contains``,
  ``starts_with``, relative dates) is false on a missing value;
* ``ne``, ``not_in`` and ``not_contains`` are the exact negations of ``eq``, ``in`` and
  ``contains``, so they are **true** on a missing value ("plan is not enterprise" includes
  accounts with no plan);
* ``{"not": c}`` is true exactly when ``c`` is false.

A stored value of another type than its field's (a JSON attribute holding text where a
number is declared) counts as missing on both sides.

Extending
---------

* **An operator**: add it to ``OPERATORS`` (types, value shape, ``extras`` for keys such as
  ``"days"``), its SQL to ``compiling._SQL`` and its test to ``evaluating._TESTS``; a
  negating operator needs only ``negates=``. Validation follows from the table.
* **Change operators** (``changed_by``, ``changed_by_pct``, with ``"days"`` from
  ``CHANGE_DAYS``): a number field takes them when its ``FieldSpec`` has ``past``, the SQL
  of a relation ``(id, now_value, then_value)`` for a number of days (an aggregate over the
  rollups, the latest snapshot on or before that day); a record holds the value then under
  ``past_key(field, days)``. ``compiling.py`` says what SQL a change clause becomes.
* **A field whose value lives in another table**, one row per object at most (the latest
  value of a custom metric): ``rows`` and ``rows_key`` on its ``FieldSpec``; clauses become
  uncorrelated ``pk IN (subquery)`` filters and every operator of its type works.
* **Segment membership** needs no new machinery: a ``multi_enum`` field ``segment`` whose
  ``holds(ids)`` is an ``Exists`` over the membership table and whose record value is the
  list of segments the account is in gives ``in`` / ``not_in`` / ``is_set``.
"""

from tend.lib.conditions.compiling import Compiled, compile_q
from tend.lib.conditions.evaluating import evaluate
from tend.lib.conditions.fields import (
    Catalog,
    FieldSpec,
    FieldType,
    Storage,
    past_key,
    split_past_key,
)
from tend.lib.conditions.operators import (
    CHANGE_DAYS,
    OPERATORS,
    Operator,
    Shape,
    field_operators,
    operators_for,
)
from tend.lib.conditions.tree import ConditionError, InvalidCondition, parse, walk_leaves
from tend.lib.conditions.validation import require_valid, validate


def fields_used(condition) -> list[str]:
    """The field names a structurally valid condition reads, each once, in order."""
    tree, _errors = parse(condition)
    if tree is None:
        return []
    return list(dict.fromkeys(leaf.field for leaf in walk_leaves(tree)))


def record_keys(condition) -> list[str]:
    """What a record must hold to evaluate a structurally valid condition: the fields it
    reads and, for each change clause, the field's value then (``past_key``)."""
    tree, _errors = parse(condition)
    if tree is None:
        return []
    keys = []
    for leaf in walk_leaves(tree):
        keys.append(leaf.field)
        if OPERATORS[leaf.op].is_change and isinstance(leaf.extras.get("days"), int):
            keys.append(past_key(leaf.field, leaf.extras["days"]))
    return list(dict.fromkeys(keys))


__all__ = [
    "CHANGE_DAYS",
    "OPERATORS",
    "Catalog",
    "Compiled",
    "ConditionError",
    "FieldSpec",
    "FieldType",
    "InvalidCondition",
    "Operator",
    "Shape",
    "Storage",
    "compile_q",
    "evaluate",
    "field_operators",
    "fields_used",
    "operators_for",
    "past_key",
    "record_keys",
    "require_valid",
    "split_past_key",
    "validate",
]
