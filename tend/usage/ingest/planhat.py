"""Planhat's analytics endpoints, for teams moving off Planhat.

- ``POST /analytics/<key>`` (one activity or an array) and ``/analytics/bulk/<key>`` (an
  array): user activities. The user is ``externalId`` | ``euExtId`` | ``id`` (or, without
  one, the ``email``), the company ``companyExternalId`` | ``cId``, the activity ``action``,
  when it happened ``date`` (ISO 8601 or epoch milliseconds; default now), free ``info``
  (kept as the event's properties), ``count`` (the activity happened that many times) and
  ``weight`` (kept in the properties).
- ``POST /dimensiondata/<key>``: custom time-series values ``{dimensionId, value,
  externalId, model, date}`` of companies, stored as daily metric values per account.

Like Planhat, a bad item is reported in ``{"processed": n, "errors": [...]}`` and the others
are kept; unlike Planhat, every refused item is also in the ingestion log.
"""

import math

from tend.usage.ingest.facts import (
    EventFact,
    Intake,
    MetricFact,
    Reason,
    Refused,
    UserFact,
    key_text,
    name_text,
    parse_properties,
    parse_timestamp,
)
from tend.usage.ingest.native import local_day_of, metric_key, metric_value
from tend.usage.ingest.wire import has_nul, refuse_nul
from tend.usage.models import Source

MAX_COUNT = 1_000  # events one activity item may expand to
MAX_ITEMS = 10_000
MAX_BODY_BYTES = 5 * 1024 * 1024
USER_ID_FIELDS = ("externalId", "euExtId", "id")
COMPANY_FIELDS = ("companyExternalId", "cId")
METRIC_ACCOUNT_FIELDS = ("externalId", "companyExternalId", "cId")
COMPANY_MODEL = "company"


def items_of(body) -> list:
    """A body is one object or an array of them."""
    return body if isinstance(body, list) else [body]


def _first(item: dict, fields: tuple[str, ...]) -> tuple[object, str]:
    """The first of several alias fields that is set, and its name (the first name if none)."""
    for name in fields:
        value = item.get(name)
        if value is not None and value != "":
            return value, name
    return None, fields[0]


def _count(value) -> int:
    if value is None:
        return 1
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refused(Reason.INVALID_FIELD, "count", "expected a whole number of times")
    if value < 1:
        raise Refused(Reason.INVALID_FIELD, "count", "must be at least 1")
    if value > MAX_COUNT:
        raise Refused(
            Reason.INVALID_FIELD, "count", f"is {value:,}; the limit is {MAX_COUNT:,} per item"
        )
    return value


def activity_facts(index: int, item, now_ms: int, module_property: str, intake: Intake) -> None:
    """Add the events (and the end user, when named) of one activity item to ``intake``."""
    if not isinstance(item, dict):
        raise Refused(Reason.INVALID_ITEM, "item", "expected an activity object")
    raw_user, user_field = _first(item, USER_ID_FIELDS)
    user = key_text(raw_user, user_field, required=False)
    email = item.get("email")
    if email is not None and not isinstance(email, str):
        raise Refused(Reason.INVALID_FIELD, "email", "expected text")
    email = email.strip() if email else None
    if user is None:
        if not email:
            raise Refused(
                Reason.MISSING_FIELD,
                "externalId",
                "an activity needs its user: externalId (or euExtId, id) or email",
            )
        user = key_text(email, "email")
    raw_company, company_field = _first(item, COMPANY_FIELDS)
    company = key_text(raw_company, company_field, required=False)
    activity = name_text(item.get("action"), "action")
    ts = parse_timestamp(item.get("date"), "date", now_ms)
    info = parse_properties(item.get("info"), "info")
    module = ""
    if info:
        module = name_text(info.get(module_property), f"info.{module_property}", required=False)
    weight = item.get("weight")
    if weight is not None:
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
        ):
            raise Refused(Reason.INVALID_FIELD, "weight", "expected a number")
        info = {**(info or {}), "weight": weight}
    count = _count(item.get("count"))
    name = name_text(item.get("name"), "name", required=False)
    if email or name:
        intake.users.append(
            UserFact(index, user, account=company, email=email or None, name=name or None)
        )
    # ``count`` says the activity happened that many times: that many events, one item.
    intake.events.extend(
        EventFact(index, company, user, activity, module, ts, properties=info) for _ in range(count)
    )


def analytics_intake(
    items: list, now_ms: int, module_property: str, *, check_nul: bool = True
) -> Intake:
    """``check_nul``: look for NUL characters (the caller knows the body holds none)."""
    intake = Intake(source=Source.PLANHAT, received=len(items))
    for index, item in enumerate(items):
        users, events = len(intake.users), len(intake.events)
        try:
            if check_nul and has_nul(item):
                raise refuse_nul("item")
            activity_facts(index, item, now_ms, module_property, intake)
        except Refused as exc:
            del intake.users[users:], intake.events[events:]
            intake.refuse(index, item, exc)
    return intake


def metric_fact(index: int, item, now_ms: int, tz_name: str) -> MetricFact:
    """One dimension-data value: a company's metric on the day of ``date`` (default today)."""
    if not isinstance(item, dict):
        raise Refused(Reason.INVALID_ITEM, "item", "expected a dimension data object")
    model = item.get("model")
    if model is not None and model != "" and str(model).strip().lower() != COMPANY_MODEL:
        raise Refused(
            Reason.UNSUPPORTED,
            "model",
            f"{str(model)[:40]!r}: only Company metrics are kept (Tend has no {str(model)[:40]} "
            "object to attach them to)",
        )
    raw_account, account_field = _first(item, METRIC_ACCOUNT_FIELDS)
    account = key_text(raw_account, account_field)
    metric = metric_key(item.get("dimensionId"), "dimensionId")
    value = metric_value(item.get("value"), "value")
    return MetricFact(
        index, account, metric, value, local_day_of(item.get("date"), "date", now_ms, tz_name)
    )


def dimension_intake(items: list, now_ms: int, tz_name: str, *, check_nul: bool = True) -> Intake:
    intake = Intake(source=Source.PLANHAT, received=len(items))
    for index, item in enumerate(items):
        try:
            if check_nul and has_nul(item):
                raise refuse_nul("item")
            intake.metrics.append(metric_fact(index, item, now_ms, tz_name))
        except Refused as exc:
            intake.refuse(index, item, exc)
    return intake
