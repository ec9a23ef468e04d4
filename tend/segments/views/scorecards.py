"""The scorecard pages: the list (each scorecard with how many cards are on track), a
scorecard (a grid of KPI cards: value, target, status, sparkline, click-through), and the
forms to make and change scorecards and cards.

Every scorecard comes through ``get_scorecard`` (404 for one the actor cannot see, 403 with
``edit`` for one they may not change); the card forms post to the scorecard actions, whose
errors come back beside their field (a condition's under its row in the builder).
"""

import math

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.accounts import condition_builder as cb
from tend.accounts.conditions import account_catalog
from tend.accounts.views.accounts.common import member_required
from tend.lib.conditions import ConditionError, InvalidCondition
from tend.lib.errors import InvalidInput
from tend.segments.actions.scorecards import (
    add_card,
    create_scorecard,
    delete_card,
    delete_scorecard,
    move_card,
    update_card,
    update_scorecard,
)
from tend.segments.cards import show_cards
from tend.segments.kpis import AT_RISK, OFF_TRACK, ON_TRACK, is_number_field, read_cards, status_of
from tend.segments.models import Visibility
from tend.segments.queries import visible_segments
from tend.segments.scorecard_models import Base, CardKind, Direction, KpiCard, Source
from tend.segments.scorecard_queries import (
    can_edit,
    cards_of,
    get_card,
    get_scorecard,
    visible_scorecards,
)
from tend.segments.views.common import go
from tend.workspaces.access import ADMIN, CONTRIBUTE, WRITE

PREFIX = "condition"
SCORECARD_FIELDS = ("name", "description", "visibility")
CARD_FIELDS = (
    "title",
    "description",
    "kind",
    "source",
    "segment",
    "base",
    "base_segment",
    "field",
    "target",
    "direction",
    "tolerance",
)
# An action's field → the form's.
FORM_FIELD = {"segment_id": "segment", "base_segment_id": "base_segment"}
KIND_HELP = {
    CardKind.COUNT: "How many accounts.",
    CardKind.PERCENTAGE: "Their share of a base: all accounts, paying ones or a segment.",
    CardKind.SUM: "A number field added up over them, e.g. contract value.",
    CardKind.AVERAGE: "A number field's mean over those that have one, e.g. health score.",
}
SOURCE_HELP = {
    Source.ALL: "Every account in the workspace.",
    Source.SEGMENT: "The members of a segment, kept up to date.",
    Source.CONDITION: "The accounts a condition matches now.",
}


def _scorecard(request, scorecard_id: int, *, edit: bool = False):
    actor = request.actor
    queryset = visible_scorecards(actor).select_related("owner__user")
    return get_scorecard(actor, scorecard_id, edit=edit, queryset=queryset)


def _url(scorecard) -> str:
    return reverse("scorecards:detail", kwargs={"scorecard_id": scorecard.pk})


# --- The list -------------------------------------------------------------------------------


@member_required
@require_GET
def scorecard_list(request):
    """Every scorecard the actor sees, by name, with its cards' statuses now: all their
    values in one query."""
    actor = request.actor
    scorecards = list(visible_scorecards(actor).select_related("owner__user").order_by("name"))
    cards = list(
        KpiCard.objects.filter(workspace=actor.workspace, scorecard__in=scorecards).order_by(
            "position", "id"
        )
    )
    readings = read_cards(actor.workspace, cards)
    tallies = {s.pk: {"cards": 0, ON_TRACK: 0, AT_RISK: 0, OFF_TRACK: 0} for s in scorecards}
    for card in cards:
        reading = readings[card.pk]
        tally = tallies[card.scorecard_id]
        tally["cards"] += 1
        status = status_of(reading.value, card.target, card.direction, card.tolerance)
        if status in tally:
            tally[status] += 1
    member = actor.member
    rows = [
        {
            "scorecard": s,
            "tally": tallies[s.pk],
            "mine": member is not None and s.owner_id == member.pk,
        }
        for s in scorecards
    ]
    return render(
        request,
        "segments/scorecards/list.html",
        {"rows": rows, "can_create": actor.can(CONTRIBUTE)},
    )


# --- A scorecard ----------------------------------------------------------------------------


@member_required
@require_GET
def scorecard_detail(request, scorecard_id: int):
    actor = request.actor
    scorecard = _scorecard(request, scorecard_id)
    cards = cards_of(scorecard)
    shown = show_cards(actor.workspace, cards)
    counts = {ON_TRACK: 0, AT_RISK: 0, OFF_TRACK: 0}
    for each in shown:
        if each.status in counts:
            counts[each.status] += 1
    return render(
        request,
        "segments/scorecards/detail.html",
        {
            "scorecard": scorecard,
            "shown": shown,
            "counts": counts,
            "can_edit": can_edit(actor, scorecard),
            # Data model definitions are the admins' (a card's problem links there).
            "can_admin": actor.can(ADMIN),
        },
    )


def _scorecard_form(request, scorecard):
    actor = request.actor
    values = {
        "name": scorecard.name if scorecard else "",
        "description": scorecard.description if scorecard else "",
        "visibility": scorecard.visibility if scorecard else Visibility.PRIVATE,
    }
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {name: (request.POST.get(name) or "").strip() for name in SCORECARD_FIELDS}
        try:
            if scorecard is None:
                saved = create_scorecard(actor, values)
            else:
                saved = update_scorecard(actor, scorecard, values)
        except InvalidInput as exc:
            field = exc.field if exc.field in SCORECARD_FIELDS else ""
            errors = {field: [exc.message if field else f"{exc.field}: {exc.message}"]}
        else:
            messages.success(request, f"Saved “{saved.name}”.")
            return go(request, _url(saved))
    return render(
        request,
        "segments/scorecards/form.html",
        {
            "scorecard": scorecard,
            "values": values,
            "errors": errors,
            "general_errors": errors.get("", []),
            "visibilities": Visibility.choices,
            "can_share": actor.can(WRITE),
        },
        status=422 if errors else 200,
    )


@member_required
@require_http_methods(["GET", "POST"])
def scorecard_new(request):
    request.actor.require(CONTRIBUTE)
    return _scorecard_form(request, None)


@member_required
@require_http_methods(["GET", "POST"])
def scorecard_edit(request, scorecard_id: int):
    return _scorecard_form(request, _scorecard(request, scorecard_id, edit=True))


@member_required
@require_http_methods(["GET", "POST"])
def scorecard_delete(request, scorecard_id: int):
    scorecard = _scorecard(request, scorecard_id, edit=True)
    if request.method == "POST":
        name = scorecard.name
        delete_scorecard(request.actor, scorecard)
        messages.success(request, f"Deleted the scorecard “{name}”.")
        return go(request, reverse("scorecards:list"))
    return render(
        request,
        "segments/scorecards/delete.html",
        {"scorecard": scorecard, "cards": scorecard.cards.count()},
    )


# --- Cards ----------------------------------------------------------------------------------


def _number_text(value) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _card_values(card: KpiCard | None, request) -> dict:
    if request.method == "POST":
        return {name: (request.POST.get(name) or "").strip() for name in CARD_FIELDS}
    if card is None:
        source = request.GET.get("source", "")
        return {
            "title": "",
            "description": "",
            "kind": CardKind.COUNT,
            "source": source if source in Source.values else Source.CONDITION,
            "segment": request.GET.get("segment", ""),
            "base": Base.ALL,
            "base_segment": "",
            "field": "",
            "target": "",
            "direction": Direction.AT_LEAST,
            "tolerance": "",
        }
    return {
        "title": card.title,
        "description": card.description,
        "kind": card.kind,
        "source": card.source,
        "segment": str(card.segment_id or ""),
        "base": card.base,
        "base_segment": str(card.base_segment_id or ""),
        "field": card.field,
        "target": _number_text(card.target),
        "direction": card.direction,
        "tolerance": _number_text(card.tolerance) if card.tolerance else "",
    }


def _number(values: dict, name: str):
    text = values[name].replace(",", "")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError as exc:
        raise InvalidInput(name, f"expected a number, got {values[name]!r}") from exc
    if not math.isfinite(number):
        raise InvalidInput(name, f"expected a number, got {values[name]!r}")
    return number


def _segment_id(values: dict, name: str, field: str):
    text = values[name]
    if not text:
        raise InvalidInput(field, "choose a segment")
    try:
        return int(text)
    except ValueError as exc:
        raise InvalidInput(field, f"expected a segment, got {text!r}") from exc


def _card_data(values: dict, builder, catalog) -> tuple[dict, cb.Draft]:
    """The action's input from the form's values and builder (``InvalidInput`` for what
    does not parse)."""
    data = {
        "title": values["title"],
        "description": values["description"],
        "kind": values["kind"],
        "direction": values["direction"],
        "segment_id": None,
        "condition": None,
        "base": Base.ALL,
        "base_segment_id": None,
        "field": "",
        "target": _number(values, "target"),
        "tolerance": _number(values, "tolerance") or 0,
    }
    draft = cb.Draft(None)
    source = values["source"]
    if source == Source.SEGMENT:
        data["segment_id"] = _segment_id(values, "segment", "segment_id")
    elif source == Source.CONDITION:
        draft = cb.to_condition(builder, catalog)
        if draft.error:
            raise InvalidInput("condition", f"The condition {draft.error}")
        if draft.condition is None:
            raise InvalidInput("condition", "add a condition, or count every account")
        data["condition"] = draft.condition
    elif source != Source.ALL:
        raise InvalidInput("source", "choose which accounts the card counts")
    if values["kind"] == CardKind.PERCENTAGE:
        data["base"] = values["base"] or Base.ALL
        if data["base"] == Base.SEGMENT:
            data["base_segment_id"] = _segment_id(values, "base_segment", "base_segment_id")
    if values["kind"] in (CardKind.SUM, CardKind.AVERAGE):
        data["field"] = values["field"]
    return data, draft


def _errors_of(exc: InvalidInput, builder, draft) -> dict[str, list[str]]:
    """An action's error by form field; a condition's under its row (``cb:<row>``)."""
    if exc.field == PREFIX or exc.field.startswith(PREFIX + "."):
        if isinstance(exc, InvalidCondition):
            found = [ConditionError(e.field(exc.prefix), e.message) for e in exc.errors]
        else:
            found = [ConditionError(exc.field, exc.message)]
        if draft.condition is None:
            return {"cb:": [exc.message]}
        rows = cb.node_errors(builder, draft, found, strip=PREFIX)
        return {f"cb:{k}": v for k, v in rows.items()}
    field = FORM_FIELD.get(exc.field, exc.field)
    if field in CARD_FIELDS:
        return {field: [exc.message]}
    return {"": [exc.message if exc.field == "scorecard" else f"{exc.field}: {exc.message}"]}


def _card_context(request, scorecard, card, values, builder, catalog, errors) -> dict:
    actor = request.actor
    segments = list(
        visible_segments(actor).order_by("name").values_list("id", "name", "visibility")
    )
    shared_only = not scorecard.is_private
    condition_errors = {k.removeprefix("cb:"): v for k, v in errors.items() if k.startswith("cb:")}
    number_fields = [
        (group, [(spec.name, spec.label) for spec in specs if is_number_field(spec)])
        for group, specs in catalog.groups()
    ]
    return {
        "scorecard": scorecard,
        "card": card,
        "values": values,
        "errors": {k: v for k, v in errors.items() if k and not k.startswith("cb:")},
        "general_errors": errors.get("", []),
        "cb": cb.view(builder, catalog, condition_errors, actor=actor),
        "kinds": [(value, label, KIND_HELP[value]) for value, label in CardKind.choices],
        "sources": [(value, label, SOURCE_HELP[value]) for value, label in Source.choices],
        "bases": Base.choices,
        "directions": Direction.choices,
        "segments": [
            {"id": str(pk), "name": name, "disabled": shared_only and vis == Visibility.PRIVATE}
            for pk, name, vis in segments
        ],
        "shared_only": shared_only,
        "number_fields": [(group, fields) for group, fields in number_fields if fields],
    }


def _card_form(request, scorecard, card: KpiCard | None):
    actor = request.actor
    catalog = account_catalog(actor.workspace)
    values = _card_values(card, request)
    if request.method == "GET":
        builder = (
            cb.from_condition(card.condition, PREFIX)
            if card is not None and card.condition is not None
            else cb.blank(PREFIX)
        )
        context = _card_context(request, scorecard, card, values, builder, catalog, {})
        return render(request, "segments/scorecards/card_form.html", context)
    builder = cb.read(request.POST, PREFIX, catalog)
    op = request.POST.get(f"{PREFIX}-op", "")
    if op:  # a builder button pressed without JavaScript: the form back, edited
        cb.apply(builder, op, catalog)
        context = _card_context(request, scorecard, card, values, builder, catalog, {})
        return render(request, "segments/scorecards/card_form.html", context)
    draft = cb.Draft(None)
    try:
        data, draft = _card_data(values, builder, catalog)
        saved = add_card(actor, scorecard, data) if card is None else update_card(actor, card, data)
    except InvalidInput as exc:
        errors = _errors_of(exc, builder, draft)
        context = _card_context(request, scorecard, card, values, builder, catalog, errors)
        return render(request, "segments/scorecards/card_form.html", context, status=422)
    messages.success(request, f"Saved the card “{saved.title}”.")
    return go(request, f"{_url(scorecard)}#card-{saved.pk}")


@member_required
@require_http_methods(["GET", "POST"])
def card_new(request, scorecard_id: int):
    return _card_form(request, _scorecard(request, scorecard_id, edit=True), None)


@member_required
@require_http_methods(["GET", "POST"])
def card_edit(request, scorecard_id: int, card_id: int):
    scorecard = _scorecard(request, scorecard_id, edit=True)
    return _card_form(request, scorecard, get_card(request.actor, scorecard, card_id, edit=True))


@member_required
@require_POST
def card_move(request, scorecard_id: int, card_id: int):
    scorecard = _scorecard(request, scorecard_id, edit=True)
    card = get_card(request.actor, scorecard, card_id, edit=True)
    step = -1 if request.POST.get("direction") == "earlier" else 1
    move_card(request.actor, card, max(0, card.position + step))
    return go(request, f"{_url(scorecard)}#card-{card.pk}")


@member_required
@require_POST
def card_delete(request, scorecard_id: int, card_id: int):
    scorecard = _scorecard(request, scorecard_id, edit=True)
    card = get_card(request.actor, scorecard, card_id, edit=True)
    title = card.title
    delete_card(request.actor, card)
    messages.success(request, f"Deleted the card “{title}”.")
    return go(request, _url(scorecard))
