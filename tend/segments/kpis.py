"""What a KPI card measures: its accounts as a condition, its value, its status, and how
its value reads.

Everything a card counts is said in the condition language, so one machinery serves the
value, the click-through and the trend:

* the card's **accounts** — ``{"field": "segment", "op": "in", "value": [id]}`` for a
  segment's members, its own condition, or nothing (every account);
* a percentage card's **base** — every account, ``status eq paying``, or another segment;
* the **click-through** — the accounts the value is about: the card's accounts, and for a
  percentage those of them in the base (the numerator), so the list shows what was counted.

:func:`read_cards` computes the values of many cards in **one query**: every card's
accounts and base compile to filters, and each value is an aggregate with its filter
(``COUNT(*) FILTER (WHERE id IN (…))``, ``SUM(value) FILTER (WHERE …)``) over the
workspace's accounts. A card whose condition no longer compiles (an attribute it names was deleted, a
segment it counted was deleted) gets no value and says why; the others are unaffected.

**Status** (:func:`status_of`) compares the value with the target in the card's direction.
*On track*: the target is met. *At risk*: missed by no more than the tolerance. *Off track*:
missed by more. A card without a target has no status; a card without a value (an average
over no account, a percentage of an empty base, a problem) neither.
"""

import datetime
import math
from dataclasses import dataclass

from django.db.models import Avg, Count, FloatField, Q, Sum, Value
from django.db.models.functions import Coalesce

from tend.accounts.conditions import account_catalog, condition_now
from tend.accounts.models import Account
from tend.accounts.search.columns import sort_key
from tend.lib.conditions import Catalog, FieldType, InvalidCondition, Storage, compile_q
from tend.lib.conditions.tree import parse, walk_leaves
from tend.segments.scorecard_models import Base, CardKind, Direction, KpiCard, Source
from tend.workspaces.models import Workspace

PAYING = {"field": "status", "op": "eq", "value": "paying"}
ON_TRACK, AT_RISK, OFF_TRACK = "on_track", "at_risk", "off_track"
NO_TARGET, NO_VALUE = "no_target", "no_value"
STATUS_LABELS = {
    ON_TRACK: "On track",
    AT_RISK: "At risk",
    OFF_TRACK: "Off track",
    NO_TARGET: "No target",
    NO_VALUE: "No value",
}


class CardProblem(Exception):
    """Why a card has no value now (shown on the card)."""


def segment_clause(segment_id: int) -> dict:
    return {"field": "segment", "op": "in", "value": [segment_id]}


def accounts_condition(card: KpiCard) -> dict | None:
    """The card's accounts as a condition; None for every account."""
    if card.source == Source.SEGMENT:
        if card.segment_id is None:
            raise CardProblem("Its segment was deleted: choose another segment or a condition.")
        return segment_clause(card.segment_id)
    if card.source == Source.CONDITION:
        return card.condition
    return None


def base_condition(card: KpiCard) -> dict | None:
    """What a percentage card divides by, as a condition; None for every account."""
    if card.base == Base.PAYING:
        return PAYING
    if card.base == Base.SEGMENT:
        if card.base_segment_id is None:
            raise CardProblem("Its base segment was deleted: choose another base.")
        return segment_clause(card.base_segment_id)
    return None


def both(*conditions) -> dict | None:
    """The conditions that are not None, all holding (None when none is left)."""
    parts = [c for c in conditions if c is not None]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"all": parts}


def drill_condition(card: KpiCard) -> dict | None:
    """The accounts the card's value is about (see the module docstring)."""
    if card.kind == CardKind.PERCENTAGE:
        return both(accounts_condition(card), base_condition(card))
    return accounts_condition(card)


def is_number_field(spec) -> bool:
    """Whether a sum or an average can read ``spec``: one number per account, stored as a
    number (``days_in_stage`` is stored as the instant the stage was entered)."""
    return spec.type == FieldType.NUMBER and spec.storage == Storage.NATIVE


@dataclass
class Reading:
    """A card's value now: ``value`` (None without one), the accounts counted (``accounts``:
    for a percentage the numerator, for a sum or average those with a value), the base of a
    percentage, and the ``problem`` that kept it from having a value."""

    value: float | None = None
    accounts: int | None = None
    base: int | None = None
    problem: str = ""
    # What the workspace lacks for the card to count: "attribute" or "role" (the data
    # model is where to add it), or "" when the card itself needs changing.
    needs: str = ""


def _filter(workspace: Workspace, condition, catalog: Catalog, now) -> Q | None:
    """The accounts ``condition`` matches as ``pk IN (…)``: compiled in a WHERE of its own,
    exactly as ``matching_accounts`` (and so segments) filter. Inlined into an aggregate's
    FILTER instead, Django compiles JSON key lookups differently on SQLite (an attribute
    would equal the JSON text ``'"enterprise"'``, never ``enterprise``)."""
    if condition is None:
        return None
    compiled = compile_q(condition, catalog, now)
    matching = compiled.filter(Account.objects.filter(workspace=workspace))
    return Q(pk__in=matching.values("pk"))


def condition_problem(card: KpiCard, catalog: Catalog, error: InvalidCondition) -> tuple[str, str]:
    """Why a card's condition cannot be counted, in words that say what to do — usually a
    field the workspace does not have (yet) — and what it needs (see ``Reading.needs``)."""
    tree = parse(card.condition)[0] if card.source == Source.CONDITION else None
    for leaf in walk_leaves(tree) if tree is not None else ():
        if leaf.field in catalog:
            continue
        if leaf.field.startswith("attributes."):
            key = leaf.field.removeprefix("attributes.")
            return (
                f"Needs the account attribute {key!r}, which this workspace does not have: "
                "add it in the data model and this card counts from then.",
                "attribute",
            )
        if leaf.field.startswith("owner."):
            key = leaf.field.removeprefix("owner.")
            return (
                f"Needs the assignment role {key!r}, which this workspace does not have: "
                "add it in the data model and this card counts from then.",
                "role",
            )
        return f"Counts the field {leaf.field!r}, which this workspace no longer has.", ""
    return f"Its condition no longer holds: {error}", ""


def _count(q: Q | None):
    return Count("pk", filter=q) if q is not None else Count("pk")


def read_cards(
    workspace: Workspace,
    cards: list[KpiCard],
    *,
    catalog: Catalog | None = None,
    now: datetime.datetime | None = None,
) -> dict[int, Reading]:
    """Card id → its :class:`Reading` now, for all ``cards`` in one query (none when every
    card has a problem)."""
    now = condition_now(workspace, now)
    readings: dict[int, Reading] = {}
    aggregates: dict = {}
    aliases: dict = {}
    plans = []
    catalog = catalog or (account_catalog(workspace) if cards else None)
    for card in cards:
        try:
            plans.append((card, _plan(workspace, card, catalog, now, aliases, aggregates)))
        except CardProblem as exc:
            readings[card.pk] = Reading(problem=str(exc))
        except InvalidCondition as exc:
            problem, needs = condition_problem(card, catalog, exc)
            readings[card.pk] = Reading(problem=problem, needs=needs)
    if plans:
        queryset = Account.objects.filter(workspace=workspace)
        if aliases:
            queryset = queryset.alias(**aliases)
        row = queryset.aggregate(**aggregates)
        for card, names in plans:
            readings[card.pk] = _reading(card, row, names)
    return readings


def _plan(
    workspace: Workspace, card: KpiCard, catalog: Catalog, now, aliases: dict, aggregates: dict
) -> dict:
    """Add the card's aggregates (named after its id) and return their names."""
    pk = card.pk
    accounts = _filter(workspace, accounts_condition(card), catalog, now)
    if card.kind == CardKind.COUNT:
        aggregates[f"c{pk}"] = _count(accounts)
        return {"count": f"c{pk}"}
    if card.kind == CardKind.PERCENTAGE:
        base = _filter(workspace, base_condition(card), catalog, now)
        both_q = accounts if base is None else base if accounts is None else accounts & base
        aggregates[f"n{pk}"] = _count(both_q)
        aggregates[f"b{pk}"] = _count(base)
        return {"count": f"n{pk}", "base": f"b{pk}"}
    spec = catalog.get(card.field)
    if spec is None or not is_number_field(spec):
        raise CardProblem(
            f"Its field {card.field!r} is no longer a number field of this workspace: "
            "choose another field."
        )
    aliases.update(spec.aliases)
    value = sort_key(Account, spec, False, now).expression
    aggregates[f"k{pk}"] = Count(value, filter=accounts)
    if card.kind == CardKind.SUM:
        total = Sum(value, filter=accounts, output_field=FloatField())
        aggregates[f"v{pk}"] = Coalesce(total, Value(0.0), output_field=FloatField())
    else:
        aggregates[f"v{pk}"] = Avg(value, filter=accounts, output_field=FloatField())
    return {"count": f"k{pk}", "value": f"v{pk}"}


def _reading(card: KpiCard, row: dict, names: dict) -> Reading:
    counted = row[names["count"]]
    if card.kind == CardKind.COUNT:
        return Reading(value=float(counted), accounts=counted)
    if card.kind == CardKind.PERCENTAGE:
        base = row[names["base"]]
        value = counted * 100.0 / base if base else None
        return Reading(value=value, accounts=counted, base=base)
    value = row[names["value"]]
    return Reading(value=None if value is None else float(value), accounts=counted)


# --- Status ---------------------------------------------------------------------------------


def status_of(
    value: float | None, target: float | None, direction: str, tolerance: float = 0
) -> str:
    """On track, at risk or off track (see the module docstring); ``no_target`` or
    ``no_value`` when there is nothing to compare."""
    if value is None:
        return NO_VALUE
    if target is None:
        return NO_TARGET
    missed_by = target - value if direction == Direction.AT_LEAST else value - target
    # Values are computed in floating point (an average, a percentage): a miss smaller than
    # rounding is no miss.
    if missed_by <= 1e-9 * max(1.0, abs(target)):
        return ON_TRACK
    if missed_by <= tolerance + 1e-9 * max(1.0, abs(tolerance)):
        return AT_RISK
    return OFF_TRACK


# --- How values read ------------------------------------------------------------------------


def _grouped(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    if decimals and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_value(kind: str, value: float | None) -> str:
    """A card's value as it reads on the card: ``1,204`` accounts, ``42.5%``, ``1.25M``."""
    if value is None or math.isnan(value):
        return "—"
    if kind == CardKind.COUNT:
        return _grouped(value, 0)
    if kind == CardKind.PERCENTAGE:
        return f"{_grouped(value, 1)}%"
    magnitude = abs(value)
    if magnitude >= 1_000_000_000:
        return f"{_grouped(value / 1_000_000_000, 2)}B"
    if magnitude >= 1_000_000:
        return f"{_grouped(value / 1_000_000, 2)}M"
    if magnitude >= 10_000:
        return _grouped(value, 0)
    # A small value needs its decimals (0.25 events a day), a mean its first (72.4).
    return _grouped(value, 2 if magnitude < 1 else 1)


def exact_value(kind: str, value: float | None) -> str:
    """The value in full, for a tooltip: every digit of a sum, two decimals of the rest."""
    if value is None or math.isnan(value):
        return ""
    if kind == CardKind.COUNT:
        return _grouped(value, 0)
    suffix = "%" if kind == CardKind.PERCENTAGE else ""
    return f"{_grouped(value, 2)}{suffix}"
