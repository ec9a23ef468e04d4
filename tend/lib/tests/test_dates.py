import datetime

from tend.lib.dates import (
    MS_PER_DAY,
    date_of,
    day_number,
    local_day,
    offset_spans,
    to_ms,
    today,
    zone,
)

BERLIN = zone("Europe/Berlin")


def ms(*args, tz=datetime.UTC) -> int:
    return to_ms(datetime.datetime(*args, tzinfo=tz))


def test_day_numbers_count_days_since_1970():
    assert day_number(datetime.date(1970, 1, 1)) == 0
    assert day_number(datetime.date(2026, 11, 29)) == 20786
    assert date_of(20786) == datetime.date(2026, 11, 29)


def test_a_local_day_follows_the_zone_not_utc():
    late_evening_utc = ms(2026, 6, 30, 23, 30)  # already July 1st in Berlin (UTC+2)
    assert local_day(late_evening_utc, zone("UTC")) == day_number(datetime.date(2026, 6, 30))
    assert local_day(late_evening_utc, BERLIN) == day_number(datetime.date(2026, 7, 1))


def test_today_is_the_local_date_of_now():
    now = datetime.datetime(2026, 1, 1, 23, 30, tzinfo=datetime.UTC)
    assert today(BERLIN, now) == day_number(datetime.date(2026, 1, 2))


def test_an_unknown_zone_falls_back_to_utc():
    assert str(zone("Mars/Olympus")) == "UTC"


def test_offset_spans_find_daylight_saving_changes_to_the_second():
    start, end = ms(2026, 3, 20), ms(2026, 11, 5)
    spans = offset_spans(BERLIN, start, end)
    summer_starts = ms(2026, 3, 29, 1)  # 02:00 CET → 03:00 CEST, 01:00 UTC
    summer_ends = ms(2026, 10, 25, 1)  # 03:00 CEST → 02:00 CET, 01:00 UTC
    assert spans == [
        (summer_starts, 3600_000),
        (summer_ends, 7200_000),
        (None, 3600_000),
    ]


def test_an_offset_span_puts_every_instant_on_its_local_day():
    spans = offset_spans(BERLIN, ms(2026, 10, 24), ms(2026, 10, 27))
    for instant in range(ms(2026, 10, 24), ms(2026, 10, 27), 1800_000):
        offset = next(o for until, o in spans if until is None or instant < until)
        assert (instant + offset) // MS_PER_DAY == local_day(instant, BERLIN)


def test_a_zone_without_changes_has_one_span():
    assert offset_spans(zone("Asia/Kolkata"), ms(2026, 1, 1), ms(2026, 12, 31)) == [
        (None, 19_800_000)
    ]
