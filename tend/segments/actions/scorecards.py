"""Creating, changing and deleting scorecards and their KPI cards; recording card values day
by day; the built-in Customer Intelligence scorecard.

Every input is checked before anything is written (``InvalidInput`` naming the field: the
API answers 422, a form shows it beside the field). Who may do what follows segments (see
``tend.segments.scorecard_queries``): a shared scorecard needs the write right, a private
one belongs to its owner (any seat but viewer); cards are changed by whoever may change
their scorecard.

A card's **trend** is its value on each local day (``KpiValue``), recorded by the hourly
job (:func:`record_card_values`) and when the card is made or changed. Changing what a card
measures (kind, accounts, base, field) starts its trend afresh, since the old values
measured something else; a plain count of a segment takes the segment's daily counts
(``SegmentCount``) as its past at once.
"""

import datetime
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from tend.accounts.bulk.sql import upsert
from tend.accounts.conditions import account_catalog
from tend.lib.conditions import Catalog
from tend.lib.errors import InvalidInput
from tend.segments import customer_intelligence
from tend.segments.actions.common import (
    choice,
    condition_for,
    named_segments,
    number,
    owner_for_private,
    private_segments,
    segment_for,
    text,
    unknown_fields,
)
from tend.segments.actions.evaluation import local_day
from tend.segments.kpis import is_number_field, read_cards
from tend.segments.models import SegmentCount, Visibility
from tend.segments.queries import acting_member
from tend.segments.scorecard_models import (
    Base,
    CardKind,
    Direction,
    KpiCard,
    KpiValue,
    Scorecard,
    Source,
)
from tend.segments.scorecard_queries import require_edit
from tend.workspaces.access import CONTRIBUTE, WRITE, Actor
from tend.workspaces.models import Workspace

SCORECARD_FIELDS = ("name", "description", "visibility")
CARD_FIELDS = (
    "title",
    "description",
    "kind",
    "segment_id",
    "condition",
    "base",
    "base_segment_id",
    "field",
    "target",
    "direction",
    "tolerance",
    "position",
)
# What a card measures: changing any of these starts its trend afresh.
MEASURE = ("kind", "source", "segment_id", "condition", "base", "base_segment_id", "field")
MAX_NAME = 120
MAX_DESCRIPTION = 500
MAX_CARDS = 24
# How far back a plain count's trend is taken from its segment's daily counts.
BACKFILL_DAYS = 365


def _scorecard_name(workspace: Workspace, value, exclude_pk=None) -> str:
    name = text("name", value, MAX_NAME, required=True)
    clash = Scorecard.objects.filter(workspace=workspace, name=name).exclude(pk=exclude_pk)
    if clash.exists():
        raise InvalidInput("name", f"another scorecard is already called {name!r}")
    return name


def create_scorecard(actor: Actor, data: Mapping) -> Scorecard:
    """A new, empty scorecard from ``name``, ``description`` and ``visibility`` (private by
    default: the contribute right; shared: the write right)."""
    unknown_fields(data, SCORECARD_FIELDS, "a scorecard")
    visibility = choice("visibility", data.get("visibility", Visibility.PRIVATE), Visibility)
    actor.require(WRITE if visibility == Visibility.SHARED else CONTRIBUTE)
    with transaction.atomic():
        name = _scorecard_name(actor.workspace, data.get("name"))
        owner = (
            owner_for_private(actor, "scorecard")
            if visibility == Visibility.PRIVATE
            else acting_member(actor)
        )
        now = timezone.now()
        return Scorecard.objects.create(
            workspace=actor.workspace,
            name=name,
            description=text("description", data.get("description"), MAX_DESCRIPTION),
            visibility=visibility,
            owner=owner,
            created_at=now,
            updated_at=now,
        )


def update_scorecard(actor: Actor, scorecard: Scorecard, changes: Mapping) -> Scorecard:
    """Change ``name``, ``description`` or ``visibility``. Sharing a scorecard needs the
    write right and every segment its cards count to be shared."""
    unknown_fields(changes, SCORECARD_FIELDS, "a scorecard")
    require_edit(actor, scorecard)
    with transaction.atomic():
        scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
        require_edit(actor, scorecard)
        fields = []
        if "name" in changes:
            scorecard.name = _scorecard_name(
                scorecard.workspace, changes["name"], exclude_pk=scorecard.pk
            )
            fields.append("name")
        if "description" in changes:
            scorecard.description = text("description", changes["description"], MAX_DESCRIPTION)
            fields.append("description")
        if "visibility" in changes:
            visibility = choice("visibility", changes["visibility"], Visibility)
            if visibility != scorecard.visibility:
                actor.require(WRITE)
                if visibility == Visibility.SHARED:
                    _cards_may_be_shared(scorecard)
                else:
                    scorecard.owner = owner_for_private(actor, "scorecard") or scorecard.owner
                    fields.append("owner")
                scorecard.visibility = visibility
                fields.append("visibility")
        if fields:
            scorecard.updated_at = timezone.now()
            scorecard.save(update_fields=[*fields, "updated_at"])
    return scorecard


def _cards_may_be_shared(scorecard: Scorecard) -> None:
    cards = list(KpiCard.objects.filter(workspace=scorecard.workspace, scorecard=scorecard))
    for card in cards:
        ids = named_segments((card.segment_id, card.base_segment_id), card.condition)
        private = private_segments(scorecard.workspace, ids)
        if private:
            raise InvalidInput(
                "visibility",
                f"card {card.title!r} counts the private segment "
                f"{next(iter(private.values()))!r}; share that segment or change the card "
                "first, so everyone who sees the scorecard can see what it counts",
            )


@transaction.atomic
def delete_scorecard(actor: Actor, scorecard: Scorecard) -> None:
    """Delete the scorecard with its cards and their trends."""
    require_edit(actor, scorecard)
    scorecard.delete()


# --- Cards ----------------------------------------------------------------------------------


def _card_values(
    actor: Actor, scorecard: Scorecard, data: dict, catalog: Catalog, stored=None
) -> dict:
    """The model fields of a card from its input ``data`` (every field, already merged with
    the card's current values when it is changed), checked; see :func:`add_card`. A
    condition equal to the card's ``stored`` one is not checked again, as segments do: a
    card whose attribute is not there yet still takes a new title or target."""
    shared = not scorecard.is_private
    values = {
        "title": text("title", data.get("title"), MAX_NAME, required=True),
        "description": text("description", data.get("description"), MAX_DESCRIPTION),
        "kind": choice("kind", data.get("kind") or CardKind.COUNT, CardKind),
        "direction": choice("direction", data.get("direction") or Direction.AT_LEAST, Direction),
    }
    segment_id, condition = data.get("segment_id"), data.get("condition")
    if segment_id is not None and condition is not None:
        raise InvalidInput(
            "condition", "a card counts a segment or a condition, not both: drop one"
        )
    source = data.get("source")
    if segment_id is not None:
        values["source"] = Source.SEGMENT
        values["segment"] = segment_for(
            actor, segment_id, "segment_id", shared=shared, what="scorecard"
        )
        values["condition"] = None
    elif condition is not None:
        values["source"] = Source.CONDITION
        values["segment"] = None
        values["condition"] = (
            condition
            if stored is not None and condition == stored
            else condition_for(actor, condition, "condition", shared=shared, what="scorecard")
        )
    else:
        # A card whose segment was deleted keeps saying so until it is given accounts.
        values["source"] = Source.SEGMENT if source == Source.SEGMENT else Source.ALL
        values["segment"] = None
        values["condition"] = None

    kind = values["kind"]
    base = data.get("base") or Base.ALL
    base_segment_id = data.get("base_segment_id")
    values["base"], values["base_segment"] = Base.ALL, None
    if kind == CardKind.PERCENTAGE:
        values["base"] = choice("base", base, Base)
        if values["base"] == Base.SEGMENT:
            if base_segment_id is None:
                raise InvalidInput(
                    "base_segment_id", "is required: the segment the percentage is of"
                )
            values["base_segment"] = segment_for(
                actor, base_segment_id, "base_segment_id", shared=shared, what="scorecard"
            )
        elif base_segment_id is not None:
            raise InvalidInput("base_segment_id", "is taken only with base 'segment'")
    else:
        if base != Base.ALL:
            raise InvalidInput("base", "only a percentage card has a base")
        if base_segment_id is not None:
            raise InvalidInput("base_segment_id", "only a percentage card has a base")

    field = data.get("field") or ""
    if kind in (CardKind.SUM, CardKind.AVERAGE):
        if not isinstance(field, str) or not field:
            raise InvalidInput("field", f"is required: the number field to {kind}")
        spec = catalog.get(field)
        if spec is None:
            raise InvalidInput("field", f"unknown field {field!r}")
        if not is_number_field(spec):
            raise InvalidInput(
                "field", f"{field!r} is not a number field; a {kind} needs one number per account"
            )
    elif field:
        raise InvalidInput("field", "only a sum or an average card reads a field")
    values["field"] = field

    high = 100 if kind == CardKind.PERCENTAGE else None
    low = 0 if kind in (CardKind.COUNT, CardKind.PERCENTAGE) else None
    values["target"] = number("target", data.get("target"), low=low, high=high)
    tolerance = data.get("tolerance")
    values["tolerance"] = number("tolerance", 0 if tolerance is None else tolerance, low=0)
    return values


def _position(value, count: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput("position", "expected a whole number, 0 or more")
    return min(value, count)


def _place(scorecard: Scorecard, card: KpiCard, position: int) -> None:
    """Put ``card`` at ``position`` among the scorecard's cards, renumbering them 0, 1, …"""
    others = [
        c
        for c in KpiCard.objects.filter(workspace=scorecard.workspace, scorecard=scorecard)
        .exclude(pk=card.pk)
        .order_by("position", "id")
    ]
    others.insert(min(position, len(others)), card)
    for index, each in enumerate(others):
        if each.position != index or each.pk == card.pk:
            KpiCard.objects.filter(pk=each.pk).update(position=index)
            each.position = index


def add_card(actor: Actor, scorecard: Scorecard, data: Mapping) -> KpiCard:
    """A new card on ``scorecard``:

    * ``title`` (required), ``description``;
    * ``kind``: ``count`` (default), ``percentage``, ``sum`` or ``average``;
    * its accounts: ``segment_id`` (a segment's members) or ``condition`` (the accounts it
      matches), or neither (every account);
    * a percentage's ``base``: ``all`` (default), ``paying`` or ``segment`` with
      ``base_segment_id``;
    * a sum's or average's ``field``: a number field of the condition catalog;
    * ``target`` (none by default; 0–100 for a percentage), ``direction`` (``at_least`` by
      default, or ``at_most``) and ``tolerance`` (0 by default);
    * ``position`` (default: last).

    Its value is recorded at once, and a plain count of a segment takes that segment's
    daily counts as its trend."""
    unknown_fields(data, CARD_FIELDS, "a card")
    require_edit(actor, scorecard)
    catalog = account_catalog(actor.workspace)
    with transaction.atomic():
        scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
        count = KpiCard.objects.filter(workspace=actor.workspace, scorecard=scorecard).count()
        if count >= MAX_CARDS:
            raise InvalidInput("scorecard", f"has {MAX_CARDS} cards, the most a scorecard holds")
        values = _card_values(actor, scorecard, dict(data), catalog)
        position = _position(data.get("position", count), count)
        now = timezone.now()
        card = KpiCard.objects.create(
            workspace=actor.workspace,
            scorecard=scorecard,
            position=count,
            created_at=now,
            updated_at=now,
            **values,
        )
        _place(scorecard, card, position)
        _touch(scorecard, now)
        _start_trend(card, catalog, now)
    return card


def _inputs_of(card: KpiCard) -> dict:
    """The card as the input :func:`add_card` takes (to merge changes into)."""
    return {
        "title": card.title,
        "description": card.description,
        "kind": card.kind,
        "source": card.source,
        "segment_id": card.segment_id,
        "condition": card.condition,
        "base": card.base,
        "base_segment_id": card.base_segment_id,
        "field": card.field,
        "target": card.target,
        "direction": card.direction,
        "tolerance": card.tolerance,
    }


def update_card(actor: Actor, card: KpiCard, changes: Mapping) -> KpiCard:
    """Change any field :func:`add_card` takes. Giving ``segment_id`` drops the card's
    condition and the reverse; giving both as null counts every account. A change of what
    the card measures starts its trend afresh."""
    unknown_fields(changes, CARD_FIELDS, "a card")
    scorecard = card.scorecard
    require_edit(actor, scorecard)
    catalog = account_catalog(actor.workspace)
    with transaction.atomic():
        card = KpiCard.objects.select_for_update().get(pk=card.pk)
        data = _inputs_of(card)
        data.update({k: v for k, v in changes.items() if k != "position"})
        if changes.get("segment_id") is not None and "condition" not in changes:
            data["condition"] = None
        if changes.get("condition") is not None and "segment_id" not in changes:
            data["segment_id"] = None
        if "segment_id" in changes or "condition" in changes:
            data.pop("source")
        if changes.get("kind") not in (None, CardKind.PERCENTAGE) and "base" not in changes:
            data["base"], data["base_segment_id"] = Base.ALL, None
        if changes.get("kind") in (CardKind.COUNT, CardKind.PERCENTAGE) and "field" not in changes:
            data["field"] = ""
        values = _card_values(actor, scorecard, data, catalog, stored=card.condition)
        before = {name: getattr(card, name) for name in MEASURE}
        for name, value in values.items():
            setattr(card, name, value)
        now = timezone.now()
        card.updated_at = now
        card.save()
        if "position" in changes:
            count = KpiCard.objects.filter(workspace=card.workspace, scorecard=scorecard).count()
            _place(scorecard, card, _position(changes["position"], count - 1))
        _touch(scorecard, now)
        if any(before[name] != getattr(card, name) for name in MEASURE):
            KpiValue.objects.filter(workspace=card.workspace, card=card).delete()
            _start_trend(card, catalog, now)
        else:
            _record(card.workspace, [card], catalog, now)
    return card


@transaction.atomic
def move_card(actor: Actor, card: KpiCard, position: int) -> None:
    """Put the card at ``position`` (0 first) on its scorecard."""
    require_edit(actor, card.scorecard)
    count = KpiCard.objects.filter(workspace=card.workspace, scorecard=card.scorecard).count()
    _place(card.scorecard, card, _position(position, count - 1))
    _touch(card.scorecard, timezone.now())


@transaction.atomic
def delete_card(actor: Actor, card: KpiCard) -> None:
    scorecard = card.scorecard
    require_edit(actor, scorecard)
    card.delete()
    for index, pk in enumerate(
        KpiCard.objects.filter(workspace=scorecard.workspace, scorecard=scorecard)
        .order_by("position", "id")
        .values_list("pk", flat=True)
    ):
        KpiCard.objects.filter(pk=pk).update(position=index)
    _touch(scorecard, timezone.now())


def _touch(scorecard: Scorecard, now: datetime.datetime) -> None:
    Scorecard.objects.filter(pk=scorecard.pk).update(updated_at=now)


# --- Trends ---------------------------------------------------------------------------------


def _start_trend(card: KpiCard, catalog: Catalog, now: datetime.datetime) -> None:
    """A new trend: the segment's past counts for a plain count, then today's value."""
    if card.is_plain_count:
        since = local_day(card.workspace, now) - datetime.timedelta(days=BACKFILL_DAYS)
        past = SegmentCount.objects.filter(
            workspace=card.workspace, segment_id=card.segment_id, day__gte=since
        ).values_list("day", "members")
        _store(card.workspace, [(card.pk, day, float(members)) for day, members in past])
    _record(card.workspace, [card], catalog, now)


def _store(workspace: Workspace, rows: list[tuple[int, datetime.date, float]]) -> None:
    upsert(
        KpiValue,
        ("workspace_id", "card_id", "day", "value"),
        [(workspace.pk, card_id, day, value) for card_id, day, value in rows],
        ["card", "day"],
        ["value"],
    )


def _record(workspace: Workspace, cards: list[KpiCard], catalog, now) -> int:
    readings = read_cards(workspace, cards, catalog=catalog, now=now)
    day = local_day(workspace, now)
    rows = [
        (card.pk, day, readings[card.pk].value)
        for card in cards
        if readings[card.pk].value is not None
    ]
    _store(workspace, rows)
    return len(rows)


def record_card_values(workspace: Workspace, now: datetime.datetime | None = None) -> int:
    """Today's value (the workspace's local day) of every card of the workspace that has one,
    in one query for the values and one upsert; a later run the same day replaces it, so the
    day keeps its last value. Returns how many were recorded."""
    now = now or timezone.now()
    cards = list(KpiCard.objects.filter(workspace=workspace).order_by("pk"))
    if not cards:
        return 0
    with transaction.atomic():
        return _record(workspace, cards, account_catalog(workspace), now)


# --- The Customer Intelligence scorecard --------------------------------------------------


def install_customer_intelligence(workspace: Workspace) -> Scorecard:
    """The built-in Customer Intelligence scorecard, shared, with its cards (see
    ``tend.segments.customer_intelligence``); the one already installed if there is one.

    Its cards carry their own conditions, which may name attributes the workspace does not
    have yet (``renewal_date``, ``contract_value``): such a card says what to add, and counts
    as soon as the attribute exists. So they are written as they are, without the check
    ``add_card`` makes of what people write."""
    template = customer_intelligence.TEMPLATE
    with transaction.atomic():
        found = Scorecard.objects.filter(workspace=workspace, template=template).first()
        if found is not None:
            return found
        name = customer_intelligence.NAME
        if Scorecard.objects.filter(workspace=workspace, name=name).exists():
            name = f"{name} (built-in)"
        now = timezone.now()
        scorecard = Scorecard.objects.create(
            workspace=workspace,
            name=name,
            description=customer_intelligence.DESCRIPTION,
            visibility=Visibility.SHARED,
            template=template,
            created_at=now,
            updated_at=now,
        )
        cards = [
            KpiCard(
                workspace=workspace,
                scorecard=scorecard,
                position=position,
                created_at=now,
                updated_at=now,
                **spec,
            )
            for position, spec in enumerate(customer_intelligence.cards())
        ]
        KpiCard.objects.bulk_create(cards)
        _record(workspace, list(scorecard.cards.all()), account_catalog(workspace), now)
    return scorecard


def set_up_workspace(sender=None, *, workspace, actor: Actor, **kwargs) -> None:
    """A new workspace starts with the Customer Intelligence scorecard
    (``workspace_created`` receiver)."""
    install_customer_intelligence(workspace)


__all__ = [
    "add_card",
    "create_scorecard",
    "delete_card",
    "delete_scorecard",
    "install_customer_intelligence",
    "move_card",
    "record_card_values",
    "set_up_workspace",
    "update_card",
    "update_scorecard",
]
