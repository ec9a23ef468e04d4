"""Dates as the usage tables store them: epoch milliseconds and day numbers in a time zone.

A *day number* is the number of days since 1970-01-01 of a local date. Rollups compute it in
SQL as ``(ts + offset) // 86_400_000`` where ``offset`` is the zone's UTC offset at that
instant; :func:`offset_spans` lists the offsets in force over a range of instants so that the
SQL can pick the right one on either side of a daylight-saving change.
"""

import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MS_PER_DAY = 86_400_000
EPOCH = datetime.date(1970, 1, 1)
UTC = datetime.UTC


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def to_ms(moment: datetime.datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(ms / 1000, tz=UTC)


def day_number(date: datetime.date) -> int:
    return (date - EPOCH).days


def date_of(day: int) -> datetime.date:
    return EPOCH + datetime.timedelta(days=day)


def local_day(ms: int, tz: ZoneInfo) -> int:
    """The local day number of the instant ``ms`` in ``tz``."""
    return day_number(from_ms(ms).astimezone(tz).date())


def today(tz: ZoneInfo, now: datetime.datetime | None = None) -> int:
    now = now or datetime.datetime.now(UTC)
    return day_number(now.astimezone(tz).date())


def _offset_ms(tz: ZoneInfo, ms: int) -> int:
    return int(from_ms(ms).astimezone(tz).utcoffset().total_seconds() * 1000)


def offset_spans(tz: ZoneInfo, start_ms: int, end_ms: int) -> list[tuple[int | None, int]]:
    """The UTC offsets of ``tz`` between two instants: ``[(until_ms, offset_ms), …]``.

    Each offset applies to instants before ``until_ms`` (and at or after the previous span's
    ``until_ms``); the last span's ``until_ms`` is None (open-ended). Transitions are found by
    sampling every 12 hours and bisecting to the second where the offset changes.
    """
    step = MS_PER_DAY // 2
    spans: list[tuple[int | None, int]] = []
    current = _offset_ms(tz, start_ms)
    probe = start_ms
    while probe < end_ms:
        following = min(probe + step, end_ms)
        offset = _offset_ms(tz, following)
        if offset != current:
            # Bisect in whole seconds (zones change at a whole second):
            # offset(low) == current, offset(high) != current.
            low, high = probe // 1000, -(-following // 1000)
            while high - low > 1:
                middle = (low + high) // 2
                if _offset_ms(tz, middle * 1000) == current:
                    low = middle
                else:
                    high = middle
            spans.append((high * 1000, current))
            current = offset
        probe = following
    spans.append((None, current))
    return spans
