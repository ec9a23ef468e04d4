"""Instants and days as conditions see them, computed the same way by the compiler and the
evaluator so that the two agree to the millisecond.

``now`` is an aware datetime in the workspace's time zone: its zone decides which calendar
day a date value such as ``"2025-03-01"`` means for a datetime field, and its date is
"today" for date fields. It is cut to whole milliseconds, because usage stores instants
as epoch milliseconds and a bound finer than that would compare differently in SQL.
"""

import datetime
import re

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
ONE_MS = datetime.timedelta(milliseconds=1)
# Dates a condition may name: a day after the last one must still exist, in every zone.
FIRST_YEAR, LAST_YEAR = 1000, 9998
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def as_now(now: datetime.datetime) -> datetime.datetime:
    if not isinstance(now, datetime.datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (in the workspace's time zone)")
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def parse_day(text) -> datetime.date:
    """A ``YYYY-MM-DD`` value as a date; ValueError otherwise."""
    try:
        if not isinstance(text, str) or not _DAY.match(text):
            raise ValueError
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected a date as YYYY-MM-DD, got {text!r}") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"expected a date in the years {FIRST_YEAR} to {LAST_YEAR}")
    return day


def start_of(day: datetime.date, now: datetime.datetime) -> datetime.datetime:
    """The first instant of ``day`` in the time zone of ``now``."""
    return datetime.datetime.combine(day, datetime.time(), tzinfo=now.tzinfo)


def local_day(moment: datetime.datetime, now: datetime.datetime) -> datetime.date:
    return moment.astimezone(now.tzinfo).date()


def to_epoch_ms(moment: datetime.datetime) -> int:
    """Exact, unlike ``timestamp() * 1000`` (a float that can land a millisecond short)."""
    return (moment - EPOCH) // ONE_MS


def from_epoch_ms(ms: int) -> datetime.datetime:
    return EPOCH + ms * ONE_MS


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)
