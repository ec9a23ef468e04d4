"""One account timeline: an extension point every app feeds from its ``AppConfig.ready()``.

Accounts sits below work, plays, health and segments, so it cannot read their rows; each app
registers a :class:`TimelineSource` instead (work: touchpoints, tasks created and completed;
plays: play runs; health: rank changes; segments: entries and exits; accounts itself: stage,
status and attribute changes). Later apps (NPS, revenue) plug in the same way.

The feed is newest first, ordered by ``(at, source key, id)`` descending, and paged by a
keyset cursor carrying the last item's three values, so a page never repeats or skips an
item whatever is written meanwhile at the top. Building a page:

1. keep the sources the reader may see (``visible(actor)``), the kinds asked for and, when
   filtered by member, those that know who acted (``by_member``);
2. ask each for at most ``limit + 1`` items before the cursor — one bounded query each
   (:func:`before`, below, gives the keyset condition);
3. merge, keep ``limit``, finish those (``TimelineItem.finish``: the costly parts, such as
   Markdown, are made only for items shown), and hand back the last one's cursor when more
   remain.

So a page costs one query per source, whatever the number of items.
"""

import datetime
import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.dateparse import parse_datetime

from tend.lib.cursor import InvalidCursor, decode_cursor, encode_cursor
from tend.lib.errors import InvalidInput

PAGE_DEFAULT = 25
PAGE_MAX = 100


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: items strictly older than ``(at, source, id)``."""

    at: datetime.datetime
    source: str
    id: int

    def encode(self) -> str:
        return encode_cursor({"at": self.at.isoformat(), "s": self.source, "id": self.id})


@dataclass
class TimelineItem:
    """One line of the timeline.

    ``title`` and ``detail`` are plain text (escaped by templates); ``body_html`` is HTML a
    source has already made safe (a touchpoint's Markdown, sanitised), or "". ``actor`` is
    who did it ("" for the system); ``data`` holds the kind's fields for the API (JSON).
    """

    source: str  # the registering source's key: the second part of the ordering
    kind: str  # what happened, e.g. "task_completed", "segment_entered"
    at: datetime.datetime
    id: int
    title: str
    detail: str = ""
    body_html: str = ""
    actor: str = ""
    actor_id: int | None = None
    url: str = ""
    tone: str = ""  # "good", "bad" or "" — the marker's colour
    data: dict = field(default_factory=dict)
    # Links shown under the item, as {"label", "url"} (e.g. a touchpoint's attached files).
    links: list = field(default_factory=list)
    # Called with the item once it is known to be on the page, to fill in what is costly to
    # make (Markdown to HTML, links): each source reads ``limit + 1`` rows, but only
    # ``limit`` items of all the sources together are shown.
    finish: Callable | None = field(default=None, repr=False)

    @property
    def sort_key(self) -> tuple:
        return (self.at, self.source, self.id)

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.at, self.source, self.id)


@dataclass(frozen=True)
class TimelineSource:
    """A kind of event on the timeline.

    ``items(actor, account, cursor, limit, member)`` returns at most ``limit`` items older
    than ``cursor`` (None: from the newest), newest first, in one or two queries whatever
    ``limit`` is — :func:`before` builds the keyset filter. ``member`` (a member id or None)
    narrows to what that member did; a source with ``by_member=False`` has no notion of who
    acted and is left out when the feed is filtered by member. ``visible(actor)`` says
    whether the reader may see the source at all.
    """

    key: str
    label: str  # the filter's label, plural: "Touchpoints", "Health changes"
    items: Callable
    visible: Callable = lambda actor: True
    by_member: bool = True
    position: int = 100


_sources: dict[str, TimelineSource] = {}


def add_timeline_source(source: TimelineSource) -> None:
    """Register (or replace: ``ready()`` may run twice in tests) a source."""
    if not source.key.isidentifier():
        raise ValueError(f"timeline source {source.key!r}: the key must be an identifier")
    _sources[source.key] = source


def timeline_sources(actor=None) -> list[TimelineSource]:
    """The registered sources in order; with ``actor``, only those they may see."""
    found = sorted(_sources.values(), key=lambda s: (s.position, s.key))
    return [s for s in found if actor is None or s.visible(actor)]


def before(cursor: Cursor | None, key: str, at: str = "at", pk: str = "id") -> Q:
    """The keyset condition for a source's query: rows older than ``cursor`` in the feed's
    order ``(at, source key, id)``. ``at`` and ``pk`` name the row's time and id fields."""
    if cursor is None:
        return Q()
    if key < cursor.source:
        return Q(**{f"{at}__lte": cursor.at})
    if key > cursor.source:
        return Q(**{f"{at}__lt": cursor.at})
    return Q(**{f"{at}__lt": cursor.at}) | Q(**{at: cursor.at, f"{pk}__lt": cursor.id})


def parse_cursor(value: str | None) -> Cursor | None:
    """The cursor of a ``next_cursor``; a cursor not issued here is ``InvalidInput``."""
    if not value:
        return None
    try:
        raw = decode_cursor(value)
        at = parse_datetime(raw.get("at") or "") if isinstance(raw.get("at"), str) else None
        source, pk = raw.get("s"), raw.get("id")
    except InvalidCursor as exc:
        raise InvalidInput("cursor", str(exc)) from exc
    if at is None or at.tzinfo is None or not isinstance(source, str):
        raise InvalidInput("cursor", "cursor is not one this API issued")
    if not isinstance(pk, int) or isinstance(pk, bool):
        raise InvalidInput("cursor", "cursor is not one this API issued")
    return Cursor(at, source, pk)


def kinds_param(value, actor) -> list[str] | None:
    """The source keys a ``kind`` filter names (a list or comma-separated text), checked;
    None for all."""
    if not value:
        return None
    names = value if isinstance(value, list | tuple) else str(value).split(",")
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        return None
    known = {s.key for s in timeline_sources(actor)}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InvalidInput(
            "kind", f"unknown kind {unknown[0]!r}: one of {', '.join(sorted(known))}"
        )
    return names


@dataclass
class TimelinePage:
    items: list[TimelineItem]
    next_cursor: str | None


def account_timeline(
    actor,
    account,
    *,
    cursor: Cursor | None = None,
    limit: int = PAGE_DEFAULT,
    kinds: list[str] | None = None,
    member: int | None = None,
) -> TimelinePage:
    """A page of ``account``'s timeline as ``actor`` may see it (the caller has fetched the
    account through the chokepoint)."""
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidInput("limit", f"must be between 1 and {PAGE_MAX}")
    wanted = []
    for source in timeline_sources(actor):
        if kinds is not None and source.key not in kinds:
            continue
        if member is not None and not source.by_member:
            continue
        wanted.append(source)
    found = []
    for source in wanted:
        rows = source.items(actor, account, cursor, limit + 1, member)
        found.append(rows[: limit + 1])
    merged = list(heapq.merge(*found, key=lambda item: item.sort_key, reverse=True))
    page = merged[:limit]
    for item in page:
        if item.finish is not None:
            item.finish(item)
            item.finish = None
    more = len(merged) > limit
    return TimelinePage(page, page[-1].cursor.encode() if more and page else None)
