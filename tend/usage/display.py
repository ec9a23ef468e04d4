"""How usage figures read on a page: relative and exact times, durations, frequencies.

Times are epoch milliseconds (as the usage tables keep them) shown in the workspace's time
zone; a relative time counts calendar days there, so an event at 23:50 yesterday reads
"yesterday", not "10 minutes ago" tomorrow morning.
"""

import datetime

from tend.lib.dates import from_ms, zone
from tend.usage.models import VisitFrequency

MINUTE, HOUR = 60, 3600


def local_time(ms: int, time_zone: str) -> datetime.datetime:
    return from_ms(ms).astimezone(zone(time_zone))


def relative_time(ms: int | None, time_zone: str, now: datetime.datetime | None = None) -> str:
    """ "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", "3 weeks ago", …"""
    if ms is None:
        return ""
    tz = zone(time_zone)
    now = (now or datetime.datetime.now(datetime.UTC)).astimezone(tz)
    moment = from_ms(ms).astimezone(tz)
    seconds = (now - moment).total_seconds()
    if seconds < MINUTE:
        return "just now"  # also a clock a little ahead of ours
    days = (now.date() - moment.date()).days
    if days == 0:
        if seconds < HOUR:
            return f"{int(seconds // MINUTE)} min ago"
        return f"{int(seconds // HOUR)} h ago"
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    if days < 60:
        return f"{days // 7} wk ago"
    if days < 365:
        return f"{days // 30} mo ago"
    return f"{days // 365} yr ago"


def exact_time(ms: int | None, time_zone: str) -> str:
    """ "Mon 3 Mar 2025, 14:22 (Europe/Paris)": the tooltip behind a relative time."""
    if ms is None:
        return ""
    moment = local_time(ms, time_zone)
    return f"{moment:%a} {moment.day} {moment:%b %Y, %H:%M} ({time_zone or 'UTC'})"


def stream_time(ms: int, time_zone: str, now: datetime.datetime | None = None) -> str:
    """ "Today 14:22", "Yesterday 09:05", "Tue 11 Mar 16:40", "3 Mar 2024 16:40"."""
    tz = zone(time_zone)
    moment = from_ms(ms).astimezone(tz)
    today = (now or datetime.datetime.now(datetime.UTC)).astimezone(tz).date()
    days = (today - moment.date()).days
    clock = f"{moment:%H:%M}"
    if days == 0:
        return f"Today {clock}"
    if days == 1:
        return f"Yesterday {clock}"
    if moment.year == today.year:
        return f"{moment:%a} {moment.day} {moment:%b} {clock}"
    return f"{moment.day} {moment:%b %Y} {clock}"


def duration(seconds: float | None) -> str:
    """ "45 s", "12 min", "3 h 20 min", "1,204 h"; empty for nothing."""
    if not seconds:
        return ""
    seconds = float(seconds)
    if seconds < MINUTE:
        return f"{seconds:.0f} s"
    if seconds < HOUR:
        return f"{seconds / MINUTE:.0f} min"
    hours, rest = divmod(int(round(seconds / MINUTE)), 60)
    if hours >= 100 or rest == 0:
        return f"{hours:,} h"
    return f"{hours} h {rest} min"


def frequency_label(value: str | None) -> str:
    try:
        return VisitFrequency(value).label
    except ValueError:
        return ""
