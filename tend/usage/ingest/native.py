"""The native formats: ``POST /api/v1/events`` and ``POST /api/v1/metrics``.

An events body is a JSON array of events, or an object ``{"events": [...]}``; a metrics body
likewise with ``"metrics"``. Each item is checked on its own: a bad item is refused with a
reason and the others are stored.
"""

import datetime

from tend.lib.dates import day_number, local_day, zone
from tend.usage.ingest.facts import (
    EventFact,
    Intake,
    MetricFact,
    Reason,
    Refused,
    key_text,
    name_text,
    parse_duration,
    parse_properties,
    parse_timestamp,
)
from tend.usage.ingest.wire import has_nul, refuse_nul
from tend.usage.models import Source

MAX_EVENTS = 10_000
MAX_EVENTS_BYTES = 5 * 1024 * 1024
MAX_METRICS = 10_000
EVENT_FIELDS = frozenset(
    {
        "account_external_id",
        "user_external_id",
        "activity",
        "module",
        "timestamp",
        "message_id",
        "properties",
        "duration_seconds",
        "account_name",
    }
)
METRIC_FIELDS = frozenset({"account_external_id", "metric", "value", "date", "timestamp"})


class BodyError(ValueError):
    """The body as a whole is unusable: answered with 4xx, nothing stored."""

    def __init__(self, status: int, field: str, message: str):
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


def items_of(body, key: str, limit: int) -> list:
    """The list of items of a body: a bare array or ``{key: [...]}``."""
    if isinstance(body, dict) and set(body) == {key}:
        body = body[key]
    if not isinstance(body, list):
        raise BodyError(422, "body", f"expected a JSON array of items, or an object with {key!r}")
    if len(body) > limit:
        raise BodyError(413, "body", f"has {len(body)} items; the limit is {limit:,} per request")
    return body


def _refuse_nul(item: dict) -> None:
    for name, value in item.items():
        if has_nul(name) or has_nul(value):
            raise refuse_nul(name.replace("\x00", "\\x00"))


def event_fact(index: int, item, now_ms: int, *, check_nul: bool = False) -> EventFact:
    """One native event, checked; raises :class:`Refused` naming the first bad field.

    ``check_nul``: look for NUL characters (see ``wire.py``); pointless when the body holds
    no ``\\u0000``, which one scan of the body tells.
    """
    if not isinstance(item, dict):
        raise Refused(Reason.INVALID_ITEM, "item", "expected an object")
    if check_nul:
        _refuse_nul(item)
    for name in item:
        if name not in EVENT_FIELDS:
            raise Refused(Reason.INVALID_FIELD, name, "is not a field of an event")
    account = key_text(item.get("account_external_id"), "account_external_id")
    return EventFact(
        index=index,
        account=account,
        user=key_text(item.get("user_external_id"), "user_external_id", required=False),
        activity=name_text(item.get("activity"), "activity"),
        module=name_text(item.get("module"), "module", required=False),
        ts=parse_timestamp(item.get("timestamp"), "timestamp", now_ms),
        message_id=key_text(item.get("message_id"), "message_id", required=False),
        properties=parse_properties(item.get("properties"), "properties"),
        duration=parse_duration(item.get("duration_seconds"), "duration_seconds"),
        account_name=name_text(item.get("account_name"), "account_name", required=False) or None,
    )


def events_intake(items: list, now_ms: int, *, check_nul: bool = False) -> Intake:
    intake = Intake(source=Source.API, received=len(items))
    for index, item in enumerate(items):
        try:
            intake.events.append(event_fact(index, item, now_ms, check_nul=check_nul))
        except Refused as exc:
            intake.refuse(index, item, exc)
    return intake


def metric_fact(
    index: int, item, now_ms: int, tz_name: str, *, source_fields=METRIC_FIELDS, check_nul=False
) -> MetricFact:
    if not isinstance(item, dict):
        raise Refused(Reason.INVALID_ITEM, "item", "expected an object")
    if check_nul:
        _refuse_nul(item)
    for name in item:
        if name not in source_fields:
            raise Refused(Reason.INVALID_FIELD, name, "is not a field of a metric value")
    account = key_text(item.get("account_external_id"), "account_external_id")
    metric = metric_key(item.get("metric"), "metric")
    value = metric_value(item.get("value"), "value")
    when = item.get("date", item.get("timestamp"))
    return MetricFact(index, account, metric, value, local_day_of(when, "date", now_ms, tz_name))


def metric_key(value, field: str) -> str:
    text = name_text(value, field)
    if len(text) > 100:
        raise Refused(Reason.INVALID_FIELD, field, "is longer than 100 characters")
    return text


def metric_value(value, field: str) -> float:
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", ""))
        except ValueError:
            raise Refused(
                Reason.INVALID_FIELD, field, f"expected a number, got {value[:40]!r}"
            ) from None
    if value is None:
        raise Refused(Reason.MISSING_FIELD, field, "is required")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refused(Reason.INVALID_FIELD, field, "expected a number")
    if value != value or value in (float("inf"), float("-inf")):
        raise Refused(Reason.INVALID_FIELD, field, "expected a finite number")
    return float(value)


def local_day_of(value, field: str, now_ms: int, tz_name: str) -> int:
    """The workspace-local day of a date (``YYYY-MM-DD``) or a timestamp; default today."""
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return day_number(datetime.date.fromisoformat(value.strip()))
        except ValueError:
            raise Refused(
                Reason.INVALID_TIMESTAMP, field, f"{value!r} is not a date (YYYY-MM-DD)"
            ) from None
    return local_day(parse_timestamp(value, field, now_ms), zone(tz_name))


def metrics_intake(
    items: list, now_ms: int, tz_name: str, source: str = Source.API, *, check_nul: bool = False
) -> Intake:
    intake = Intake(source=source, received=len(items))
    for index, item in enumerate(items):
        try:
            intake.metrics.append(metric_fact(index, item, now_ms, tz_name, check_nul=check_nul))
        except Refused as exc:
            intake.refuse(index, item, exc)
    return intake
