"""``/scorecards``: list, get (with every card's value now, status and trend), create,
change and delete scorecards; add, change, move and delete their cards; a card's daily
values.

Reads need the read scope; a private scorecard of another member answers 404, like an id
of another workspace. Changes follow ``tend.segments.scorecard_queries``: shared ones need
the write scope, private ones belong to the member who created the token.
"""

import datetime
from typing import Any, Literal

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tend.accounts.schemas import Strict
from tend.lib.api_schemas import ERRORS
from tend.lib.cursor import encode_cursor, id_cursor
from tend.lib.errors import InvalidInput
from tend.segments.actions.evaluation import local_day
from tend.segments.actions.scorecards import (
    add_card,
    create_scorecard,
    delete_card,
    delete_scorecard,
    update_card,
    update_scorecard,
)
from tend.segments.api.segments import OwnerOut
from tend.segments.cards import Shown, show_cards
from tend.segments.scorecard_models import KpiCard, KpiValue, Scorecard
from tend.segments.scorecard_queries import (
    can_edit,
    cards_of,
    get_card,
    get_scorecard,
    visible_scorecards,
)
from tend.workspaces.access import READ

router = Router(tags=["scorecards"])

VisibilityName = Literal["private", "shared"]
KindName = Literal["count", "percentage", "sum", "average"]
BaseName = Literal["all", "paying", "segment"]
DirectionName = Literal["at_least", "at_most"]
StatusName = Literal["on_track", "at_risk", "off_track", "no_target", "no_value"]


class SegmentRef(Schema):
    id: int
    name: str


class PointOut(Schema):
    day: datetime.date
    value: float


class CardOut(Schema):
    id: int
    position: int
    title: str
    description: str
    kind: KindName
    segment: SegmentRef | None = Field(
        ..., description="The segment whose members the card counts (else its condition)."
    )
    condition: dict | None
    base: BaseName = Field(..., description="What a percentage is of.")
    base_segment: SegmentRef | None
    field: str = Field(..., description="The number field a sum or average reads.")
    target: float | None
    direction: DirectionName
    tolerance: float = Field(
        ..., description="How far a value may miss the target and be at risk, not off track."
    )
    value: float | None = Field(
        ..., description="Now: accounts, a percentage (0–100), or the sum or average."
    )
    value_text: str = Field(..., description="The value as the page shows it (`1,204`, `42.5%`).")
    accounts: int | None = Field(
        ...,
        description="Accounts counted: a percentage's numerator, those with a value for a "
        "sum or average.",
    )
    base_accounts: int | None = Field(..., description="A percentage's base.")
    status: StatusName
    problem: str = Field(..., description="Why the card has no value, if it has none.")
    accounts_url: str | None = Field(
        ..., description="The page listing the accounts the value is about."
    )
    trend: list[PointOut] = Field(..., description="One value per local day, the last 30 days.")


class ScorecardOut(Schema):
    id: int
    name: str
    description: str
    visibility: VisibilityName
    owner: OwnerOut | None
    built_in: str = Field(..., description="Which built-in scorecard this is, if one.")
    can_edit: bool
    card_count: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ScorecardDetail(ScorecardOut):
    cards: list[CardOut]


class ScorecardPage(Schema):
    items: list[ScorecardOut]
    next_cursor: str | None


class ScorecardIn(Strict):
    name: str = Field(..., max_length=120)
    description: str = Field("", max_length=500)
    visibility: VisibilityName = Field(
        "private", description="private: only you see it; shared: every member of the workspace."
    )


class ScorecardPatch(Strict):
    name: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=500)
    visibility: VisibilityName | None = None


CONDITION_HELP = (
    "The accounts the card counts, in the condition language (docs/conditions.md), instead "
    "of a segment."
)


class CardIn(Strict):
    # Required, checked by the action: a body is validated before the scorecard is looked
    # up, and an outsider must get 404 for another workspace's scorecard, not 422.
    title: str = Field("", max_length=120, description="Required.")
    description: str = Field("", max_length=500)
    kind: KindName = "count"
    segment_id: int | None = Field(None, description="Count this segment's members.")
    condition: dict[str, Any] | None = Field(None, description=CONDITION_HELP)
    base: BaseName = Field("all", description="A percentage's base.")
    base_segment_id: int | None = Field(None, description="With base `segment`.")
    field: str = Field(
        "",
        max_length=200,
        description="A number field (`attributes.contract_value`, "
        "`health.score`, `usage.active_users_14d` …) for a sum or an average.",
    )
    target: float | None = None
    direction: DirectionName = "at_least"
    tolerance: float = Field(0, ge=0)
    position: int | None = Field(None, ge=0, description="0 is first; default last.")


class CardPatch(Strict):
    title: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=500)
    kind: KindName | None = None
    segment_id: int | None = Field(None, description="Replaces the card's condition.")
    condition: dict[str, Any] | None = Field(None, description="Replaces the card's segment.")
    base: BaseName | None = None
    base_segment_id: int | None = None
    field: str | None = Field(None, max_length=200)
    target: float | None = None
    direction: DirectionName | None = None
    tolerance: float | None = Field(None, ge=0)
    position: int | None = Field(None, ge=0)


class ScorecardFilters(Schema):
    limit: int = Field(settings.TEND_PAGE_SIZE_DEFAULT, ge=1, le=settings.TEND_PAGE_SIZE_MAX)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")


class ValueList(Schema):
    items: list[PointOut]


class ValueParams(Schema):
    since: datetime.date | None = Field(
        None, description="The first local day; default 90 days ago."
    )


def _owner(owner) -> dict | None:
    return {"id": owner.pk, "name": owner.name, "email": owner.user.email} if owner else None


def _ref(segment) -> dict | None:
    return {"id": segment.pk, "name": segment.name} if segment is not None else None


def scorecard_out(scorecard: Scorecard, actor, card_count: int) -> dict:
    return {
        "id": scorecard.pk,
        "name": scorecard.name,
        "description": scorecard.description,
        "visibility": scorecard.visibility,
        "owner": _owner(scorecard.owner),
        "built_in": scorecard.template,
        "can_edit": can_edit(actor, scorecard),
        "card_count": card_count,
        "created_at": scorecard.created_at,
        "updated_at": scorecard.updated_at,
    }


def card_out(shown: Shown) -> dict:
    card, reading = shown.card, shown.reading
    return {
        "id": card.pk,
        "position": card.position,
        "title": card.title,
        "description": card.description,
        "kind": card.kind,
        "segment": _ref(card.segment),
        "condition": card.condition,
        "base": card.base,
        "base_segment": _ref(card.base_segment),
        "field": card.field,
        "target": card.target,
        "direction": card.direction,
        "tolerance": card.tolerance,
        "value": reading.value,
        "value_text": shown.value,
        "accounts": reading.accounts,
        "base_accounts": reading.base,
        "status": shown.status,
        "problem": reading.problem,
        "accounts_url": shown.url,
        "trend": [{"day": day, "value": value} for day, value in shown.trend],
    }


def _detail(request, scorecard: Scorecard) -> dict:
    actor = request.auth
    cards = cards_of(scorecard)
    shown = show_cards(actor.workspace, cards)
    return {
        **scorecard_out(scorecard, actor, len(cards)),
        "cards": [card_out(s) for s in shown],
    }


def _scorecards(actor):
    return visible_scorecards(actor).select_related("owner__user")


def _fetch(request, id: int) -> Scorecard:
    actor = request.auth
    return get_scorecard(actor, id, queryset=_scorecards(actor))


def _card_detail(request, card: KpiCard) -> dict:
    card = KpiCard.objects.select_related("segment", "base_segment").get(pk=card.pk)
    return card_out(show_cards(request.auth.workspace, [card])[0])


@router.get("/scorecards", response={200: ScorecardPage, **ERRORS}, summary="List scorecards")
def list_scorecards(request, filters: Query[ScorecardFilters]):
    """The scorecards you see (shared ones and your private ones), by id; `GET
    /scorecards/{id}` gives one with its cards' values."""
    actor = request.auth
    actor.require(READ)
    scorecards = _scorecards(actor)
    after = id_cursor(filters.cursor)
    if after is not None:
        scorecards = scorecards.filter(id__gt=after)
    rows = list(scorecards.order_by("id")[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    counts = _card_counts(actor.workspace, [s.pk for s in rows])
    return {
        "items": [scorecard_out(s, actor, counts.get(s.pk, 0)) for s in rows],
        "next_cursor": encode_cursor({"id": rows[-1].pk}) if more else None,
    }


def _card_counts(workspace, ids: list[int]) -> dict[int, int]:
    return dict(
        KpiCard.objects.filter(workspace=workspace, scorecard_id__in=ids)
        .values("scorecard_id")
        .annotate(n=Count("id"))
        .values_list("scorecard_id", "n")
    )


@router.get(
    "/scorecards/{int:id}",
    response={200: ScorecardDetail, **ERRORS},
    summary="Get a scorecard with its cards' values",
    description=(
        "Every card with its value now, status against its target (on_track, at_risk, "
        "off_track; no_target or no_value when there is nothing to compare), the accounts "
        "it counted, where its accounts are listed, and its last 30 days."
    ),
)
def get_one(request, id: int):
    return _detail(request, _fetch(request, id))


@router.post(
    "/scorecards",
    response={201: ScorecardDetail, **ERRORS},
    summary="Create a scorecard",
    description="Empty: add cards with POST /scorecards/{id}/cards.",
)
def post_scorecard(request, payload: ScorecardIn):
    scorecard = create_scorecard(request.auth, payload.dict(exclude_unset=True))
    return Status(201, _detail(request, _fetch(request, scorecard.pk)))


@router.patch(
    "/scorecards/{int:id}", response={200: ScorecardDetail, **ERRORS}, summary="Change a scorecard"
)
def patch_scorecard(request, id: int, payload: ScorecardPatch):
    changes = payload.dict(exclude_unset=True)
    for name in ("name", "visibility"):
        if name in changes and changes[name] is None:
            raise InvalidInput(name, "must not be null")
    update_scorecard(request.auth, _fetch(request, id), changes)
    return _detail(request, _fetch(request, id))


@router.delete("/scorecards/{int:id}", response={204: None, **ERRORS}, summary="Delete a scorecard")
def remove_scorecard(request, id: int):
    delete_scorecard(request.auth, _fetch(request, id))
    return Status(204, None)


@router.post(
    "/scorecards/{int:id}/cards",
    response={201: CardOut, **ERRORS},
    summary="Add a card",
    description=(
        "A count, a percentage of a base, or a sum or average of a number field, over a "
        "segment's members (`segment_id`), a condition's matches (`condition`) or every "
        "account; with an optional target. Its value is recorded at once."
    ),
)
def post_card(request, id: int, payload: CardIn):
    data = payload.dict(exclude_unset=True)
    if data.get("position") is None:
        data.pop("position", None)
    card = add_card(request.auth, _fetch(request, id), data)
    return Status(201, _card_detail(request, card))


@router.patch(
    "/scorecards/{int:id}/cards/{int:card_id}",
    response={200: CardOut, **ERRORS},
    summary="Change a card",
    description=(
        "Giving `segment_id` replaces the card's condition and the reverse; giving both as "
        "null counts every account. Changing what the card measures starts its trend afresh."
    ),
)
def patch_card(request, id: int, card_id: int, payload: CardPatch):
    actor = request.auth
    card = get_card(actor, _fetch(request, id), card_id)
    changes = payload.dict(exclude_unset=True)
    for name in ("title", "kind", "base", "direction", "tolerance", "position", "field"):
        if name in changes and changes[name] is None:
            raise InvalidInput(name, "must not be null")
    card = update_card(actor, card, changes)
    return _card_detail(request, card)


@router.delete(
    "/scorecards/{int:id}/cards/{int:card_id}",
    response={204: None, **ERRORS},
    summary="Delete a card",
)
def remove_card(request, id: int, card_id: int):
    actor = request.auth
    delete_card(actor, get_card(actor, _fetch(request, id), card_id))
    return Status(204, None)


@router.get(
    "/scorecards/{int:id}/cards/{int:card_id}/values",
    response={200: ValueList, **ERRORS},
    summary="A card's value per day",
    description=(
        "One entry per local day (the workspace's time zone) with a recorded value, oldest "
        "first; recorded hourly (the day keeps its last value) and when the card changes."
    ),
)
def card_values(request, id: int, card_id: int, params: Query[ValueParams]):
    actor = request.auth
    card = get_card(actor, _fetch(request, id), card_id)
    today = local_day(actor.workspace, timezone.now())
    since = params.since or (today - datetime.timedelta(days=90))
    rows = KpiValue.objects.filter(workspace=actor.workspace, card=card, day__gte=since)
    return {
        "items": [
            {"day": day, "value": value}
            for day, value in rows.order_by("day").values_list("day", "value")
        ]
    }
