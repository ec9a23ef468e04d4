"""How a KPI card is shown — its value, status, target in words, trend and click-through —
the same on the scorecard page and in the API.

The **click-through** goes where the card's accounts are listed best: a plain count of a
segment opens the segment's page (its members, history and count chart), any other card
the accounts list filtered by the accounts its value is about (``?where=<condition>``, see
``tend.segments.kpis.drill_condition``), where they can be exported or saved as a segment.
"""

import datetime
import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from tend.segments.actions.evaluation import local_day
from tend.segments.kpis import (
    NO_TARGET,
    NO_VALUE,
    STATUS_LABELS,
    CardProblem,
    Reading,
    drill_condition,
    exact_value,
    format_value,
    read_cards,
    status_of,
)
from tend.segments.scorecard_models import CardKind, Direction, KpiCard
from tend.segments.scorecard_queries import card_trends
from tend.workspaces.models import Workspace

TREND_DAYS = 30
SEGMENT_PAGE = "segments:detail"
# Where a workspace adds what a card needs (``Reading.needs``).
DATA_MODEL_PAGES = {"attribute": "data_model:index", "role": "data_model:roles"}


def compact(condition) -> str:
    return json.dumps(condition, separators=(",", ":"), ensure_ascii=False)


def accounts_url(condition) -> str:
    """The accounts list showing the accounts ``condition`` matches (all without one)."""
    url = reverse("accounts:list")
    return url if condition is None else f"{url}?{urlencode({'where': compact(condition)})}"


def drill_url(card: KpiCard) -> str | None:
    """Where clicking the card goes (see the module docstring); None when the card has no
    accounts to show (its segment was deleted)."""
    try:
        condition = drill_condition(card)
    except CardProblem:
        return None
    if card.is_plain_count:
        try:
            return reverse(SEGMENT_PAGE, args=[card.segment_id])
        except NoReverseMatch:
            pass
    return accounts_url(condition)


def target_words(card: KpiCard) -> str:
    """``at most 0 (5 at risk)``: the target as the card states it."""
    if card.target is None:
        return ""
    word = "at least" if card.direction == Direction.AT_LEAST else "at most"
    words = f"{word} {format_value(card.kind, card.target)}"
    if card.tolerance:
        edge = (
            card.target - card.tolerance
            if card.direction == Direction.AT_LEAST
            else card.target + card.tolerance
        )
        words += f" · at risk to {format_value(card.kind, edge)}"
    return words


def counted_words(card: KpiCard, reading: Reading) -> str:
    """What the value was computed from: ``12 of 240 paying accounts``, ``from 38 accounts``."""
    if reading.accounts is None:
        return ""
    n = reading.accounts
    accounts = "account" if n == 1 else "accounts"
    if card.kind == CardKind.PERCENTAGE:
        return f"{n:,} of {reading.base:,} {card.get_base_display().lower()}"
    if card.kind in (CardKind.SUM, CardKind.AVERAGE):
        return f"over {n:,} {accounts} with a value"
    return ""


@dataclass
class Shown:
    """A card as shown: the card, its reading, status and the words around them."""

    card: KpiCard
    reading: Reading
    status: str
    value: str
    exact: str
    target: str
    counted: str
    url: str | None
    trend: list[tuple[datetime.date, float]] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def fix_url(self) -> str:
        """The data model page where the workspace adds what the card needs, if it needs
        something there."""
        name = DATA_MODEL_PAGES.get(self.reading.needs)
        return reverse(name) if name else ""

    @property
    def has_status(self) -> bool:
        return self.status not in (NO_TARGET, NO_VALUE)

    def trend_json(self) -> str:
        return json.dumps([[day.isoformat(), value] for day, value in self.trend])


def show_cards(
    workspace: Workspace,
    cards: list[KpiCard],
    *,
    trend_days: int = TREND_DAYS,
    now: datetime.datetime | None = None,
) -> list[Shown]:
    """Every card with its value now, status and trend: one query for all values, one for
    all trends (and the catalog's few)."""
    now = now or timezone.now()
    readings = read_cards(workspace, cards, now=now)
    today = local_day(workspace, now)
    since = today - datetime.timedelta(days=trend_days - 1)
    trends = card_trends(cards, since) if trend_days else {}
    shown = []
    for card in cards:
        reading = readings[card.pk]
        trend = trends.get(card.pk, [])
        if trend_days and reading.value is not None:
            # The trend ends with the value shown, not with the last hourly record.
            trend = [(day, value) for day, value in trend if day != today]
            trend.append((today, reading.value))
        shown.append(
            Shown(
                card=card,
                reading=reading,
                status=status_of(reading.value, card.target, card.direction, card.tolerance),
                value=format_value(card.kind, reading.value),
                exact=exact_value(card.kind, reading.value),
                target=target_words(card),
                counted=counted_words(card, reading),
                url=drill_url(card),
                trend=trend,
            )
        )
    return shown
