"""The condition builder: a condition (docs/conditions.md) as the rows and groups a person
edits in a form, and back — shared by every page that asks "which accounts" (the accounts
list's filter, segments).

A builder is a tree of :class:`Node`\\ s: groups (``all`` / ``any``) holding clauses and
groups, any of them negated. It lives in a plain form, every input named by the builder's
prefix and the node's place in the tree, so the server can read it back from any POST:

    where-r-kind = all                 the root group matches all of …
    where-r_0-kind = clause            … its first row, a clause
    where-r_0-field = status
    where-r_0-op = in
    where-r_0-value = paying           (repeated for several values, [low, high] for between)
    where-r_1-kind = any               … its second row, a group
    where-r_1-not = 1                  … negated
    where-r_1_0-…                      … whose first row is a clause
    where-mode = builder | json        the "Edit as JSON" box is where-json

:func:`to_condition` turns the rows into the condition JSON and remembers which JSON path
each row became, so a validation error (``all.1.any.0.value``) lands under its row
(:func:`node_errors`). :func:`from_condition` does the reverse; every valid condition
survives the trip unchanged, but for a list of options picked with checkboxes, which comes
back in the options' order, each once (meaning the same). A condition the rows cannot show (one that is not even
structurally valid) stays in the JSON box, saying why.

Rows with no field chosen yet are left out of the condition, and so is a group holding only
such rows: a half-built builder matches what its finished rows say. A group with no rows at
all is kept as it is (``{"any": []}`` matches no account), so conditions written by hand
keep their meaning.

The pages: ``templates/accounts/condition_builder.html`` draws a builder, and the views in
``tend/accounts/views/condition_builder.py`` redraw it after a structural edit and count the
accounts it matches as the person types.
"""

import dataclasses
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from tend.lib.conditions import (
    CHANGE_DAYS,
    OPERATORS,
    Catalog,
    ConditionError,
    FieldSpec,
    FieldType,
    Shape,
    field_operators,
    validate,
)
from tend.lib.conditions.tree import parse

GROUPS = ("all", "any")
ROOT = "r"
# A posted builder is read only this deep and this wide; the language allows less anyway
# (8 levels, 200 clauses), so a larger post is not a condition someone built.
MAX_NODE_DEPTH = 12
MAX_NODES = 600
# Words for the extra keys an operator takes (change filters take "days"): the error's
# name, and the words before and after the input.
EXTRA_LABELS = {"days": "Days"}
EXTRA_AFFIXES = {"days": ("over", "days")}


@dataclass
class Node:
    kind: str = "clause"  # "all", "any" or "clause"
    # How many "not"s wrap the node: the builder toggles 0 ↔ 1; JSON may hold more.
    negated: int = 0
    children: list["Node"] = dataclasses.field(default_factory=list)
    field: str = ""
    op: str = ""
    # What the inputs hold, as typed: one value, [low, high], or several.
    values: list[str] = dataclasses.field(default_factory=list)
    extras: dict[str, str] = dataclasses.field(default_factory=dict)  # e.g. {"days": "30"}
    # The field when the row was last drawn: a row given another field starts afresh.
    was: str = ""

    @property
    def is_group(self) -> bool:
        return self.kind in GROUPS


@dataclass
class Builder:
    prefix: str
    root: Node
    mode: str = "builder"  # or "json"
    text: str = ""  # the JSON box
    notice: str = ""  # why a JSON condition could not be shown as rows


@dataclass
class Draft:
    """What a builder describes: ``condition`` (None when nothing is filled in yet), which
    row each JSON path came from, and ``error`` when the JSON box does not parse."""

    condition: dict | None
    paths: dict[str, str] = dataclasses.field(default_factory=dict)
    error: str = ""
    pending: list[str] = dataclasses.field(default_factory=list)  # rows waiting for a value


def blank(prefix: str) -> Builder:
    """A new builder: all of one row, waiting for a field."""
    return Builder(prefix, Node(kind="all", children=[Node()]))


def walk(node: Node, node_id: str = ROOT) -> Iterator[tuple[str, Node]]:
    """Every node with its id, in the order the page shows them."""
    yield node_id, node
    if node.is_group:
        for i, child in enumerate(node.children):
            yield from walk(child, f"{node_id}_{i}")


def find(root: Node, node_id: str) -> tuple[Node | None, Node | None]:
    """``(node, parent)`` for an id, ``(None, None)`` when there is none."""
    parts = node_id.split("_")
    if parts[0] != ROOT:
        return None, None
    node, parent = root, None
    for part in parts[1:]:
        if not node.is_group or not part.isdigit() or int(part) >= len(node.children):
            return None, None
        node, parent = node.children[int(part)], node
    return node, parent


# --- from a condition ---------------------------------------------------------------------


class _Unshowable(Exception):
    pass


def from_condition(condition, prefix: str) -> Builder:
    """The builder showing ``condition`` (a new builder for None); the JSON box with a
    notice when its rows cannot show it."""
    if condition is None:
        return blank(prefix)
    try:
        _tree, errors = parse(condition)
        if errors:
            raise _Unshowable(str(errors[0]))
        root = _node_of(condition, "")
    except _Unshowable as exc:
        return Builder(
            prefix,
            Node(kind="all"),
            mode="json",
            text=_dumps(condition),
            notice=f"The builder cannot show this condition ({exc}); edit it here.",
        )
    return Builder(prefix, root)


def _node_of(raw: dict, path: str) -> Node:
    negated = 0
    while set(raw) == {"not"}:
        negated += 1
        raw = raw["not"]
        path = _join(path, "not")
    for kind in GROUPS:
        if kind in raw:
            children = [
                _node_of(item, _join(_join(path, kind), i)) for i, item in enumerate(raw[kind])
            ]
            return Node(kind=kind, negated=negated, children=children)
    operator = OPERATORS[raw["op"]]
    value = raw.get("value")
    if value is None:
        values = []
    elif operator.shape == Shape.NONE:
        raise _Unshowable(f"{_join(path, 'value')}: '{operator.name}' takes no value")
    elif operator.shape in (Shape.TWO, Shape.MANY):
        if not isinstance(value, list):
            raise _Unshowable(f"{_join(path, 'value')}: expected a list")
        values = [_shown(v, _join(_join(path, "value"), i)) for i, v in enumerate(value)]
    else:
        values = [_shown(value, _join(path, "value"))]
    extras = {key: _shown(raw[key], _join(path, key)) for key in operator.extras if key in raw}
    return Node(
        kind="clause",
        negated=negated,
        field=raw["field"],
        op=raw["op"],
        values=values,
        extras=extras,
        was=raw["field"],
    )


def _shown(value, path: str) -> str:
    """A JSON scalar as an input shows it; text typed back gives the same value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    raise _Unshowable(f"{path}: expected a single value")


def _join(path: str, key) -> str:
    return f"{path}.{key}" if path else str(key)


def _dumps(condition) -> str:
    return json.dumps(condition, indent=2, ensure_ascii=False)


def compact(condition) -> str:
    """A condition as short JSON text (for a query string)."""
    return json.dumps(condition, separators=(",", ":"), ensure_ascii=False)


# --- from a posted form -------------------------------------------------------------------


def _name_pattern(prefix: str) -> re.Pattern:
    depth = MAX_NODE_DEPTH - 1
    return re.compile(
        rf"^{re.escape(prefix)}-({ROOT}(?:_\d{{1,3}}){{0,{depth}}})-(kind|not|field|op|value|was|x-[a-z_]+)$"
    )


def from_post(data, prefix: str) -> Builder:
    """The builder as posted (a QueryDict); nothing is checked here."""
    mode = "json" if data.get(f"{prefix}-mode") == "json" else "builder"
    text = data.get(f"{prefix}-json") or ""
    pattern = _name_pattern(prefix)
    inputs: dict[str, dict[str, str]] = {}
    for key in data:
        match = pattern.match(key)
        if match:
            inputs.setdefault(match.group(1), {})[match.group(2)] = key
    found: dict[str, Node] = {}
    for node_id, names in inputs.items():
        kind = data.get(names.get("kind", ""))
        if kind not in (*GROUPS, "clause") or len(found) >= MAX_NODES:
            continue
        node = Node(kind=kind, negated=_count(data.get(names.get("not", ""))))
        if kind == "clause":
            node.field = data.get(names.get("field", "")) or ""
            node.op = data.get(names.get("op", "")) or ""
            node.values = list(data.getlist(names["value"])) if "value" in names else []
            node.was = data.get(names.get("was", "")) or ""
            node.extras = {
                part.removeprefix("x-"): data.get(name) or ""
                for part, name in names.items()
                if part.startswith("x-")
            }
        found[node_id] = node
    root = found.get(ROOT)
    if root is None:
        root = blank(prefix).root if mode == "builder" else Node(kind="all")
    # Children join their parent in the order of their index; a row whose parent is
    # missing (a hand-made post) is dropped.
    ordered = sorted(found, key=lambda i: [int(p) for p in i.split("_")[1:]])
    for node_id in ordered:
        parent = found.get(node_id.rsplit("_", 1)[0]) if node_id != ROOT else None
        if parent is not None and parent.is_group:
            parent.children.append(found[node_id])
    return Builder(prefix, root, mode=mode, text=text)


def _count(raw) -> int:
    """How many "not"s: the JSON may stack them; the language nests at most 8 levels."""
    return min(int(raw), 8) if raw and raw.isdigit() else 0


def read(data, prefix: str, catalog: Catalog) -> Builder:
    """The builder as posted, with rows given a new field settled (:func:`settle`)."""
    builder = from_post(data, prefix)
    settle(builder, catalog)
    return builder


# --- to a condition -----------------------------------------------------------------------


def to_condition(builder: Builder, catalog: Catalog, *, partial: bool = False) -> Draft:
    """The condition the builder describes; see the module docstring for blank rows.
    ``partial`` (the live count, while someone is still typing) also leaves out rows whose
    value is not filled in yet, naming them in ``Draft.pending``; saving is strict and says
    such a value "is required"."""
    if builder.mode == "json":
        text = builder.text.strip()
        if not text:
            return Draft(None)
        try:
            return Draft(json.loads(text))
        except ValueError as exc:
            return Draft(None, error=f"is not valid JSON: {exc}")
    draft = Draft(None)
    draft.condition = _emit(builder.root, ROOT, "", catalog, draft, partial)
    return draft


def _emit(node: Node, node_id: str, path: str, catalog: Catalog, draft: Draft, partial: bool):
    inner = path + ".not" * node.negated if path else ".".join(["not"] * node.negated)
    if node.is_group:
        items: list = []
        for i, child in enumerate(node.children):
            where = _join(_join(inner, node.kind), len(items))
            out = _emit(child, f"{node_id}_{i}", where, catalog, draft, partial)
            if out is not None:
                items.append(out)
        if node.children and not items:
            return None
        body: dict = {node.kind: items}
    else:
        if not node.field:
            return None
        if partial and _unfinished(node):
            draft.pending.append(node_id)
            return None
        body = _leaf(node, catalog)
    draft.paths[path] = node_id
    step = path
    for _ in range(node.negated):
        step = _join(step, "not")
        draft.paths[step] = node_id
    for _ in range(node.negated):
        body = {"not": body}
    return body


def _unfinished(node: Node) -> bool:
    """A row with its field and operator chosen, still waiting for a value."""
    operator = OPERATORS.get(node.op)
    if operator is None or operator.shape == Shape.NONE:
        return False
    missing_extra = any(not (node.extras.get(k) or "").strip() for k in operator.extras)
    return not any(v.strip() for v in node.values) or missing_extra


def _leaf(node: Node, catalog: Catalog) -> dict:
    leaf: dict = {"field": node.field}
    if node.op:
        leaf["op"] = node.op
    operator = OPERATORS.get(node.op)
    if operator is None:
        return leaf
    spec = catalog.get(node.field)
    values = node.values
    first = values[0] if values else ""
    if operator.shape in (Shape.DAYS, Shape.CHANGE):
        if first.strip():
            leaf["value"] = number(first.strip())
    elif operator.shape == Shape.ONE:
        if first.strip():
            leaf["value"] = typed(spec, first)
    elif operator.shape == Shape.TWO:
        pair = (values + ["", ""])[:2]
        if any(v.strip() for v in pair):
            leaf["value"] = [typed(spec, v) if v.strip() else None for v in pair]
    elif operator.shape == Shape.MANY:
        leaf["value"] = [typed(spec, v) for v in values if v.strip()]
    for key in operator.extras:
        raw = (node.extras.get(key) or "").strip()
        if raw:
            leaf[key] = number(raw)
    return leaf


def number(raw: str):
    """A number as typed: whole digits as an int, else a float; anything else stays text,
    so the check names it ("expected a number, got 'abc'")."""
    try:
        value = float(raw)
    except ValueError:
        return raw
    if not math.isfinite(value):
        return raw
    return int(raw) if _WHOLE.fullmatch(raw) else value


_WHOLE = re.compile(r"[+-]?\d+")


def typed(spec: FieldSpec | None, raw: str):
    """A value as typed, as the JSON the field takes (text as typed, unstripped)."""
    kind = spec.type if spec is not None else None
    if kind == FieldType.NUMBER or (spec is not None and spec.ids):
        return number(raw.strip())
    if kind == FieldType.BOOLEAN:
        return {"true": True, "false": False}.get(raw.strip(), raw)
    if kind in (FieldType.DATE, FieldType.DATETIME):
        return raw.strip()
    return raw


# --- structural edits ---------------------------------------------------------------------


def apply(builder: Builder, op: str, catalog: Catalog) -> None:
    """A structural edit named by the button pressed (``add_clause:r_1``, ``add_group:r``,
    ``remove:r_0``, ``not:r_1``, ``json``, ``rows``) on a builder :func:`read` from a post.
    An unknown or stale edit changes nothing."""
    name, _, node_id = op.partition(":")
    if name == "json":
        draft = to_condition(builder, catalog)
        builder.mode, builder.notice = "json", ""
        builder.text = _dumps(draft.condition if draft.condition is not None else {"all": []})
        return
    if name == "rows":
        _to_rows(builder)
        return
    if builder.mode != "builder":
        return
    node, parent = find(builder.root, node_id)
    if node is None:
        return
    if name == "add_clause":
        _group_for_adding(builder, node).children.append(Node())
    elif name == "add_group":
        group = _group_for_adding(builder, node)
        kind = "any" if group.kind == "all" else "all"
        group.children.append(Node(kind=kind, children=[Node()]))
    elif name == "remove" and parent is not None:
        parent.children.remove(node)
    elif name == "not":
        node.negated = 0 if node.negated else 1


def _group_for_adding(builder: Builder, node: Node) -> Node:
    """The group a new row joins: ``node`` itself, or — when the whole condition is one
    clause — a new "all" group around it."""
    if node.is_group:
        return node
    builder.root = Node(kind="all", children=[builder.root])
    return builder.root


def _to_rows(builder: Builder) -> None:
    text = builder.text.strip()
    if not text:
        builder.mode, builder.root, builder.notice = "builder", blank(builder.prefix).root, ""
        return
    try:
        condition = json.loads(text)
    except ValueError as exc:
        builder.notice = f"This is not valid JSON ({exc}); fix it to use the builder."
        return
    shown = from_condition(condition, builder.prefix)
    # Still in the JSON box when the rows cannot show it: the person's own text stays.
    builder.mode, builder.root, builder.notice = shown.mode, shown.root, shown.notice


def settle(builder: Builder, catalog: Catalog) -> None:
    """After a field was picked: an operator that applies to it, and values afresh (what
    was typed for the old field means nothing for the new one)."""
    for _node_id, node in walk(builder.root):
        if node.is_group or node.field == node.was:
            continue
        spec = catalog.get(node.field)
        if spec is not None:
            usable = [o.name for o in field_operators(spec)]
            if node.op not in usable:
                node.op = usable[0]
        node.values, node.extras = [], {}
        node.was = node.field


# --- errors beside their row --------------------------------------------------------------

PARTS = {"field": "Field", "op": "Operator", "value": "Value"}
_VERBS = ("is ", "must ", "has ", "takes ")


def node_errors(
    builder: Builder, draft: Draft, errors: list[ConditionError], strip: str = ""
) -> dict[str, list[str]]:
    """Messages by node id (``""``: the JSON box or the builder as a whole) for errors whose
    paths are relative to the condition (``strip`` removes a prefix such as ``condition``)."""
    found: dict[str, list[str]] = {}
    for error in errors:
        path = error.path
        if strip:
            path = "" if path == strip else path.removeprefix(strip + ".")
        if builder.mode == "json" or not draft.paths:
            message = f"{path}: {error.message}" if path else _worded("", error.message, None)
            found.setdefault("", []).append(message)
            continue
        owner = _owner(path, draft.paths)
        if owner is None:
            found.setdefault("", []).append(f"{path}: {error.message}")
            continue
        node_id, rest = owner
        node, _parent = find(builder.root, node_id)
        found.setdefault(node_id, []).append(_worded(rest, error.message, node))
    return found


def _owner(path: str, paths: dict[str, str]) -> tuple[str, str] | None:
    """The row a path belongs to and the rest of the path (``value.1``)."""
    best = None
    for known, node_id in paths.items():
        inside = path == known or not known or path.startswith(known + ".")
        if inside and (best is None or len(known) > len(best[0])):
            best = (known, node_id)
    if best is None:
        return None
    rest = path[len(best[0]) :].lstrip(".")
    while rest == "not" or rest.startswith("not."):
        rest = rest[4:]
    return best[1], rest


def _worded(rest: str, message: str, node: Node | None) -> str:
    if message.endswith(", got null"):
        message = "is required"
    parts = rest.split(".") if rest else []
    if not parts or parts[0] in GROUPS:
        return message[:1].upper() + message[1:]
    head = parts[0]
    operator = OPERATORS.get(node.op) if node is not None else None
    two = operator is not None and operator.shape == Shape.TWO
    if head == "value" and len(parts) > 1 and two:
        head = "From" if parts[1] == "0" else "To"
    else:
        head = PARTS.get(head) or EXTRA_LABELS.get(head) or head
    joiner = " " if message.startswith(_VERBS) else ": "
    return f"{head}{joiner}{message}"


# --- a condition from elsewhere ----------------------------------------------------------


@dataclass
class Checked:
    """A condition given as JSON text (an address's ``where``), checked: ``condition`` when
    it is valid, else the errors by row of the builder that shows it."""

    text: str = ""
    condition: dict | None = None
    builder: Builder | None = None
    errors: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return self.condition is not None and not self.errors


def check_text(text: str, prefix: str, catalog: Catalog) -> Checked:
    """``text`` parsed and validated against ``catalog``; empty text is no condition."""
    text = text.strip()
    if not text:
        return Checked()
    try:
        condition = json.loads(text)
    except ValueError as exc:
        builder = Builder(prefix, Node(kind="all"), mode="json", text=text)
        return Checked(text, None, builder, {"": [f"The condition is not valid JSON: {exc}"]})
    builder = from_condition(condition, prefix)
    problems = validate(condition, catalog)
    if problems:
        draft = to_condition(builder, catalog)
        return Checked(text, None, builder, node_errors(builder, draft, problems))
    return Checked(text, condition, builder)


# --- options shown by name -----------------------------------------------------------------

# Where a field's options are ids (segments), an upper app says which of them an actor may
# pick and what each is called: ``source(actor) -> [(id, name), …]``. Registered by field
# name from its ``AppConfig.ready()``, since accounts sits below it.
OptionSource = Callable[[Any], list[tuple[Any, str]]]
_option_sources: dict[str, OptionSource] = {}


def add_option_source(field_name: str, source: OptionSource) -> None:
    _option_sources[field_name] = source


class Options:
    """The options of each field as a builder offers them to one actor: ``(value as the
    input holds it, label)``; each source is asked once."""

    def __init__(self, actor=None):
        self.actor = actor
        self._found: dict[str, list[tuple[str, str]]] = {}

    def of(self, spec: FieldSpec) -> list[tuple[str, str]] | None:
        """None for a field that takes any value."""
        source = _option_sources.get(spec.name)
        if source is None:
            return None if spec.options is None else [(str(o), str(o)) for o in spec.options]
        if spec.name not in self._found:
            pairs = source(self.actor) if self.actor is not None else []
            self._found[spec.name] = [(str(value), label) for value, label in pairs]
        return self._found[spec.name]

    def label(self, spec: FieldSpec | None, value) -> str:
        """An option in words: a name in quotes (names may hold commas and "and")."""
        if spec is not None and spec.name in _option_sources:
            name = dict(self.of(spec) or []).get(str(value))
            return f"“{name}”" if name is not None else f"{spec.label.lower()} {value}"
        return _word(value)


# --- what the page shows ------------------------------------------------------------------

INPUT_TYPES = {
    FieldType.NUMBER: "number",
    FieldType.DATE: "date",
    FieldType.DATETIME: "date",
}
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def view(
    builder: Builder,
    catalog: Catalog,
    errors: dict[str, list[str]] | None = None,
    *,
    actor=None,
    count_url: str | None = None,
) -> dict:
    """What ``templates/accounts/condition_builder.html`` draws: the rows with their
    operators, inputs and errors, options as ``actor`` may pick them. The live count asks
    ``count_url`` (default: how many accounts match; a page with more to check — a segment
    that may not name itself — gives its own)."""
    errors = errors or {}
    options = Options(actor)
    rows = builder.mode == "builder"
    count_url = count_url or reverse("accounts:condition_count")
    return {
        "prefix": builder.prefix,
        "mode": builder.mode,
        "text": builder.text,
        "notice": builder.notice,
        "root": _node_view(builder.root, ROOT, catalog, options, errors, 0) if rows else None,
        "field_groups": catalog.groups(),
        "general_errors": errors.get("", []),
        "count_url": count_url,
        # Posted with every request of the builder, so a redraw keeps its name and count.
        "vals": json.dumps({"cb-prefix": builder.prefix, "cb-count": count_url}),
    }


def _node_view(
    node: Node, node_id: str, catalog: Catalog, options: Options, errors: dict, depth: int
) -> dict:
    out = {
        "id": node_id,
        "kind": node.kind,
        "is_group": node.is_group,
        "is_root": node_id == ROOT,
        "negated": node.negated,
        "depth": depth,
        "errors": errors.get(node_id, []),
    }
    if node.is_group:
        out["children"] = [
            _node_view(child, f"{node_id}_{i}", catalog, options, errors, depth + 1)
            for i, child in enumerate(node.children)
        ]
        out["empty_means"] = "every account" if node.kind == "all" else "no account"
        return out
    out.update(_clause_view(node, catalog, options))
    return out


def _clause_view(node: Node, catalog: Catalog, options: Options) -> dict:
    spec = catalog.get(node.field)
    ops = [(o.name, o.label) for o in field_operators(spec)] if spec is not None else []
    if node.op and node.op not in [name for name, _label in ops]:
        operator = OPERATORS.get(node.op)
        label = f"{operator.label if operator else node.op} (does not apply)"
        ops.append((node.op, label))
    operator = OPERATORS.get(node.op) or (OPERATORS[ops[0][0]] if ops else None)
    shape = operator.shape if operator is not None else Shape.ONE
    kind = spec.type if spec is not None else FieldType.TEXT
    choices = options.of(spec) if spec is not None else None
    values = list(node.values)
    if shape == Shape.TWO:
        values = (values + ["", ""])[:2]
    elif shape in (Shape.ONE, Shape.DAYS, Shape.CHANGE):
        values = values[:1] or [""]
    control = _control(kind, shape, choices)
    input_type = INPUT_TYPES.get(kind, "text")
    if any(v and not _fits(input_type, v) for v in values):
        # A browser empties a number or date input holding anything else: the value stays
        # visible as text, with its error, until it is fixed.
        input_type = "text"
        control = "text" if control in ("number", "date") else control
    known = {value for value, _label in choices or ()}
    unknown = [v for v in values if v and choices is not None and v not in known]
    return {
        "field": node.field,
        "spec": spec,
        "known": spec is not None,
        "ops": ops,
        "op": operator.name if operator is not None else node.op,
        "shape": shape.value,
        "control": control,
        "input_type": input_type,
        # Days and changes are numbers; anything else stays visible as text.
        "number_type": "number" if all(_fits("number", v) for v in values if v) else "text",
        "percent": operator is not None and operator.name.endswith("_pct"),
        "values": values,
        "choices": [*(choices or []), *((v, f"{v} (not an option)") for v in unknown)],
        "chosen": [v for v in values if v],
        "chosen_labels": [dict(choices or []).get(v, v) for v in values if v],
        "extras": [
            _extra_view(operator, key, node.extras.get(key, ""))
            for key in (operator.extras if operator is not None else ())
        ],
        "placeholder": _placeholder(kind, shape),
    }


def _extra_view(operator, key: str, value: str) -> dict:
    before, after = EXTRA_AFFIXES.get(key, (key, ""))
    choices = [str(d) for d in CHANGE_DAYS] if operator.is_change and key == "days" else None
    if choices is not None and value and value not in choices:
        choices.append(value)
    return {
        "key": key,
        "label": EXTRA_LABELS.get(key, key),
        "before": before,
        "after": after,
        "value": value,
        "choices": choices,
    }


def _fits(input_type: str, value: str) -> bool:
    """Whether a browser keeps ``value`` in an input of ``input_type``."""
    if input_type == "date":
        return bool(_ISO_DAY.match(value))
    if input_type == "number":
        return isinstance(number(value.strip()), int | float)
    return True


def _control(kind: FieldType, shape: Shape, choices: list | None) -> str:
    """Which input a value takes: none, days, a change, select, yes/no, options (several),
    many (several free values), between, or an input of the field's type."""
    if shape == Shape.NONE:
        return "none"
    if shape == Shape.DAYS:
        return "days"
    if shape == Shape.CHANGE:
        return "change"
    if kind == FieldType.BOOLEAN and shape == Shape.ONE:
        return "boolean"
    if choices is not None:
        if shape == Shape.ONE:
            return "select"
        if shape == Shape.MANY:
            return "options"
    if shape == Shape.MANY:
        return "many"
    if shape == Shape.TWO:
        return "between"
    return INPUT_TYPES.get(kind, "text")


def _placeholder(kind: FieldType, shape: Shape) -> str:
    if shape == Shape.CHANGE:
        return "e.g. -50 or 20"
    if kind == FieldType.NUMBER:
        return "number"
    return ""


# --- in words -----------------------------------------------------------------------------


def describe(condition, catalog: Catalog, options: Options | None = None) -> str:
    """A condition as a sentence: "Status is paying and (Plan is enterprise or Seats more
    than 50)". ``options`` names options that are ids (segments)."""
    options = options or Options()
    if condition is None:
        return ""
    if not isinstance(condition, dict):
        return "a condition that cannot be read"
    if set(condition) == {"not"}:
        return f"not ({describe(condition['not'], catalog, options)})"
    for match, joiner in (("all", " and "), ("any", " or ")):
        if match in condition:
            items = condition[match] if isinstance(condition[match], list) else []
            if not items:
                return "every account" if match == "all" else "no account"
            parts = []
            for item in items:
                words = describe(item, catalog, options)
                nested = isinstance(item, dict) and bool(set(item) & set(GROUPS))
                parts.append(f"({words})" if nested and len(items) > 1 else words)
            return joiner.join(parts)
    spec = catalog.get(condition.get("field"))
    label = spec.label if spec is not None else str(condition.get("field"))
    operator = OPERATORS.get(condition.get("op"))
    if operator is None:
        return f"{label} {condition.get('op')}"
    value = condition.get("value")
    if operator.is_change and isinstance(value, int | float) and not isinstance(value, bool):
        unit = "%" if operator.name.endswith("_pct") else ""
        way = "rose" if value > 0 else "fell"
        days = condition.get("days")
        return f"{label} {way} by at least {_word(abs(value))}{unit} over {_word(days)} days"
    if operator.shape == Shape.NONE:
        return f"{label} {operator.label}"
    if operator.shape == Shape.DAYS:
        return f"{label} {operator.label.replace('…', _word(value))}"
    if operator.shape == Shape.TWO and isinstance(value, list) and len(value) == 2:
        return f"{label} between {_word(value[0])} and {_word(value[1])}"
    if isinstance(value, list):
        shown = ", ".join(options.label(spec, v) for v in value)
        return f"{label} {operator.label} {shown}"
    return f"{label} {operator.label} {options.label(spec, value)}"


def _word(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
