"""The shape of a condition: groups, ``not`` and leaves, each with its path.

:func:`parse` checks only the structure (what needs no catalog) and returns the tree with
every problem found, each named by its path: ``all.2.value`` is the value of the third
clause of the top-level ``all``; ``""`` is the condition as a whole.
"""

from dataclasses import dataclass, field
from typing import Any

from tend.lib.conditions.operators import OPERATORS
from tend.lib.errors import InvalidInput

GROUPS = ("all", "any")
LEAF_KEYS = ("field", "op", "value")
MAX_DEPTH = 8
MAX_CLAUSES = 200


@dataclass(frozen=True)
class ConditionError:
    """One problem with a condition: ``path`` names the clause (``all.2.value``), ``message``
    says what is wrong."""

    path: str
    message: str

    def field(self, prefix: str = "") -> str:
        """The path under ``prefix`` (the name of the input holding the condition)."""
        return ".".join(part for part in (prefix, self.path) if part) or "condition"

    def as_dict(self, prefix: str = "") -> dict:
        return {"field": self.field(prefix), "message": self.message}

    def __str__(self):
        return f"{self.field()}: {self.message}"


class InvalidCondition(InvalidInput):
    """A condition that does not validate. As an :class:`InvalidInput` it names its first
    error's field (the API answers 422 with it); ``errors`` holds every error."""

    def __init__(self, errors: list[ConditionError], prefix: str = ""):
        first = errors[0]
        super().__init__(first.field(prefix), first.message)
        self.errors = errors
        self.prefix = prefix

    def as_dicts(self) -> list[dict]:
        return [e.as_dict(self.prefix) for e in self.errors]


@dataclass(frozen=True)
class Leaf:
    path: str
    field: str
    op: str
    value: Any = None
    has_value: bool = False
    extras: dict = field(default_factory=dict)

    def at(self, key: str) -> str:
        return join(self.path, key)


@dataclass(frozen=True)
class Group:
    path: str
    kind: str  # "all" or "any"
    children: tuple


@dataclass(frozen=True)
class Not:
    path: str
    child: Any


def join(path: str, key) -> str:
    return f"{path}.{key}" if path else str(key)


def parse(condition) -> tuple[Any, list[ConditionError]]:
    """The tree of ``condition`` and the structural errors in it (the tree is None when
    there are any)."""
    errors: list[ConditionError] = []
    counter = [0]
    node = _node(condition, "", 1, errors, counter)
    if counter[0] > MAX_CLAUSES:
        errors.append(ConditionError("", f"has {counter[0]} clauses; at most {MAX_CLAUSES}"))
    return (None if errors else node), errors


def _node(raw, path: str, depth: int, errors: list, counter: list):
    if not isinstance(raw, dict):
        errors.append(
            ConditionError(
                path,
                'expected an object: {"all": […]}, {"any": […]}, {"not": …} '
                'or {"field": …, "op": …, "value": …}',
            )
        )
        return None
    if depth > MAX_DEPTH:
        errors.append(ConditionError(path, f"is nested more than {MAX_DEPTH} levels deep"))
        return None
    structural = [k for k in (*GROUPS, "not") if k in raw]
    if structural:
        if len(raw) > 1:
            others = sorted(k for k in raw if k != structural[0])
            errors.append(
                ConditionError(path, f"'{structural[0]}' must be alone; remove {_names(others)}")
            )
            return None
        key = structural[0]
        if key == "not":
            child = _node(raw["not"], join(path, "not"), depth + 1, errors, counter)
            return Not(path, child)
        items = raw[key]
        if not isinstance(items, list):
            errors.append(ConditionError(join(path, key), "expected a list of conditions"))
            return None
        children = tuple(
            _node(item, join(join(path, key), i), depth + 1, errors, counter)
            for i, item in enumerate(items)
        )
        return Group(path, key, children)
    return _leaf(raw, path, errors, counter)


def _leaf(raw: dict, path: str, errors: list, counter: list):
    counter[0] += 1
    if "field" not in raw and "op" not in raw:
        errors.append(
            ConditionError(path, 'expected "all", "any", "not", or a clause with "field" and "op"')
        )
        return None
    ok = True
    for key in ("field", "op"):
        value = raw.get(key)
        if not isinstance(value, str) or not value:
            errors.append(ConditionError(join(path, key), "is required" if value is None else "expected text"))
            ok = False
    if not ok:
        return None
    operator = OPERATORS.get(raw["op"])
    if operator is None:
        errors.append(
            ConditionError(
                join(path, "op"), f"unknown operator '{raw['op']}'; use one of {', '.join(OPERATORS)}"
            )
        )
        return None
    extras = {k: v for k, v in raw.items() if k not in LEAF_KEYS}
    for key in sorted(set(extras) - set(operator.extras)):
        errors.append(
            ConditionError(join(path, key), f"is not taken by '{operator.name}'")
        )
    return Leaf(
        path=path,
        field=raw["field"],
        op=raw["op"],
        value=raw.get("value"),
        has_value="value" in raw and raw["value"] is not None,
        extras=extras,
    )


def _names(keys) -> str:
    return ", ".join(f"'{k}'" for k in keys)


def walk_leaves(node):
    """Every leaf of a parsed tree, in order."""
    if isinstance(node, Leaf):
        yield node
    elif isinstance(node, Not):
        yield from walk_leaves(node.child)
    elif isinstance(node, Group):
        for child in node.children:
            yield from walk_leaves(child)
