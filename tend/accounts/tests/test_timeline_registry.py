"""The timeline's extension point on its own: sources registered by key, merged newest first
by (time, source, id), paged by a keyset cursor without gaps or repeats even when every item
shares one instant, sources the reader may not see left out, and sources that know no member
left out of a member's feed."""

import datetime

import pytest

from tend.accounts import timeline
from tend.accounts.timeline import TimelineItem, TimelineSource
from tend.lib.errors import InvalidInput

AT = datetime.datetime(2026, 11, 1, 12, tzinfo=datetime.UTC)


def fake(key: str, times: list[int], finished: list | None = None):
    """A source of items ``id = n`` at ``AT + times[n]`` seconds, honouring the cursor."""

    def items(actor, account, cursor, limit, member):
        rows = [
            TimelineItem(
                source=key, kind=key, at=AT + datetime.timedelta(seconds=t), id=n, title=f"{key}{n}",
                finish=(lambda item: finished.append(item.title)) if finished is not None else None,
            )
            for n, t in enumerate(times)
        ]  # fmt: skip
        if cursor is not None:
            rows = [r for r in rows if r.sort_key < (cursor.at, cursor.source, cursor.id)]
        return sorted(rows, key=lambda r: r.sort_key, reverse=True)[:limit]

    return items


@pytest.fixture
def sources():
    keys = []

    def add(key, times, **kwargs):
        timeline.add_timeline_source(
            TimelineSource(
                key, key.title(), fake(key, times, kwargs.pop("finished", None)), **kwargs
            )
        )
        keys.append(key)

    yield add
    for key in keys:
        timeline._sources.pop(key, None)


class Reader:
    workspace = None


def walk(kinds, limit, **kwargs):
    seen, cursor = [], None
    while True:
        page = timeline.account_timeline(
            Reader(), None, cursor=timeline.parse_cursor(cursor), limit=limit, kinds=kinds, **kwargs
        )
        seen += [i.title for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen


def test_merged_newest_first_and_paged_without_gaps_even_at_one_instant(sources):
    sources("zeta", [0, 0, 0, 5])
    sources("alpha", [0, 0, 3])
    whole = walk(["zeta", "alpha"], 100)
    assert whole == ["zeta3", "alpha2", "zeta2", "zeta1", "zeta0", "alpha1", "alpha0"]
    for limit in (1, 2, 3):
        assert walk(["zeta", "alpha"], limit) == whole


def test_only_the_items_shown_are_finished(sources):
    finished = []
    sources("zeta", list(range(10)), finished=finished)
    timeline.account_timeline(Reader(), None, limit=3, kinds=["zeta"])
    assert finished == ["zeta9", "zeta8", "zeta7"]


def test_hidden_sources_and_sources_without_members(sources):
    sources("seen", [1])
    sources("hidden", [2], visible=lambda actor: False)
    sources("nobody", [3], by_member=False)
    assert walk(["seen", "nobody"], 10) == ["nobody0", "seen0"]
    assert "hidden" not in {s.key for s in timeline.timeline_sources(Reader())}
    with pytest.raises(InvalidInput) as caught:
        timeline.kinds_param("seen,hidden", Reader())
    assert caught.value.field == "kind"
    assert walk(["seen", "nobody"], 10, member=7) == ["seen0"]


@pytest.mark.parametrize(
    "cursor",
    ["", "bm9wZQ", "eyJhdCI6IDF9", "eyJhdCI6IjIwMjYtMTEtMDFUMTI6MDA6MDAiLCJzIjoieCIsImlkIjoxfQ"],
)
def test_a_cursor_not_issued_here_names_the_cursor(cursor):
    if not cursor:
        assert timeline.parse_cursor(cursor) is None
        return
    with pytest.raises(InvalidInput) as caught:
        timeline.parse_cursor(cursor)
    assert caught.value.field == "cursor"


def test_the_keyset_condition_for_a_source(sources):
    cursor = timeline.Cursor(AT, "middle", 5)
    assert str(timeline.before(cursor, "alpha", "at")) == str(timeline.Q(at__lte=AT))
    assert str(timeline.before(cursor, "zeta", "at")) == str(timeline.Q(at__lt=AT))
    same = timeline.before(cursor, "middle", "at")
    assert str(same) == str(timeline.Q(at__lt=AT) | timeline.Q(at=AT, id__lt=5))
