"""Reading scorecards and saved views: who sees which, and the access chokepoints.

They follow the segments' rules (``tend.segments.queries``): a **shared** scorecard or view
is seen by every member of its workspace and changed with the write right; a **private**
one is seen and changed by its owner only (any seat but viewer). An API token acts for the
member who created it; jobs and the CLI (the system actor) see everything.

Pages and APIs fetch one with :func:`get_scorecard` / :func:`get_view` (404 when the actor
cannot see it, 403 with ``edit`` when they may not change it); lists start from
:func:`visible_scorecards` / :func:`visible_views`.
"""

import datetime

from django.db.models import QuerySet
from django.http import Http404

from tend.segments.queries import acting_member, can_edit, is_system, require_edit
from tend.segments.scorecard_models import KpiCard, KpiValue, Scorecard
from tend.segments.view_models import SavedView
from tend.workspaces.access import READ, Actor

__all__ = [
    "can_edit",
    "card_trends",
    "get_card",
    "get_scorecard",
    "get_view",
    "visible_scorecards",
    "visible_views",
]


def visible_scorecards(actor: Actor) -> QuerySet:
    return Scorecard.objects.filter(workspace=actor.workspace).visible_to(
        acting_member(actor), everything=is_system(actor)
    )


def visible_views(actor: Actor) -> QuerySet:
    return SavedView.objects.filter(workspace=actor.workspace).visible_to(
        acting_member(actor), everything=is_system(actor)
    )


def _get(actor: Actor, queryset: QuerySet, pk, edit: bool, what: str):
    try:
        found = queryset.filter(workspace=actor.workspace).get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(f"No {what} matches the given query.") from exc
    actor.require(READ)
    if edit:
        require_edit(actor, found)
    return found


def get_scorecard(
    actor: Actor, pk, *, edit: bool = False, queryset: QuerySet | None = None
) -> Scorecard:
    """The scorecard ``pk`` if ``actor`` sees it (else 404); with ``edit``, also if they may
    change it (else 403)."""
    queryset = queryset if queryset is not None else visible_scorecards(actor)
    return _get(actor, queryset, pk, edit, "scorecard")


def get_card(actor: Actor, scorecard: Scorecard, pk, *, edit: bool = False) -> KpiCard:
    """A card of ``scorecard`` (which the caller fetched with :func:`get_scorecard`)."""
    try:
        card = KpiCard.objects.select_related("segment", "base_segment").get(
            workspace=actor.workspace, scorecard=scorecard, pk=pk
        )
    except (KpiCard.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No card matches the given query.") from exc
    if edit:
        require_edit(actor, scorecard)
    return card


def get_view(
    actor: Actor, pk, *, edit: bool = False, queryset: QuerySet | None = None
) -> SavedView:
    """The saved view ``pk`` if ``actor`` sees it (else 404); with ``edit``, also if they
    may change it (else 403)."""
    queryset = queryset if queryset is not None else visible_views(actor)
    return _get(actor, queryset, pk, edit, "saved view")


def cards_of(scorecard: Scorecard) -> list[KpiCard]:
    return list(
        KpiCard.objects.filter(workspace_id=scorecard.workspace_id, scorecard=scorecard)
        .select_related("segment", "base_segment")
        .order_by("position", "id")
    )


def card_trends(
    cards: list[KpiCard], since: datetime.date
) -> dict[int, list[tuple[datetime.date, float]]]:
    """Card id → ``(local day, value)`` from ``since``, oldest first (one query)."""
    trends: dict[int, list] = {card.pk: [] for card in cards}
    if not cards:
        return trends
    rows = KpiValue.objects.filter(
        workspace_id=cards[0].workspace_id, card__in=[c.pk for c in cards], day__gte=since
    ).order_by("card_id", "day")
    for card_id, day, value in rows.values_list("card_id", "day", "value"):
        trends[card_id].append((day, value))
    return trends
