"""``POST /events`` and ``POST /metrics``: the native ingestion API (token scope ``ingest``).

Bodies are parsed with orjson and checked per item by ``tend.usage.ingest.native`` rather
than by a Ninja schema: a pydantic model per event would cost several times the parse of
a 10,000-event batch, and a bad item must be refused alone, not fail the whole request.
The OpenAPI document still describes the item shapes (``openapi_extra``).
"""

import gc
from typing import Any

import orjson
from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, Router, Schema

from tend.lib.dates import to_ms
from tend.usage.actions.ingest import ingest
from tend.usage.ingest.facts import Intake, Reason, Rejection, sample_of
from tend.usage.ingest.native import (
    MAX_EVENTS,
    MAX_EVENTS_BYTES,
    MAX_METRICS,
    BodyError,
    events_intake,
    items_of,
    metrics_intake,
)
from tend.usage.ingest.wire import NUL_ESCAPE
from tend.usage.models import Source
from tend.workspaces.access import INGEST

router = Router(tags=["usage ingestion"])


class EventIn(Schema):
    account_external_id: str = Field(..., max_length=255, description="The account's external id.")
    user_external_id: str | None = Field(
        None, max_length=255, description="The end user's external id."
    )
    activity: str = Field(
        ..., max_length=200, description="What the user did, e.g. 'Created report'."
    )
    module: str | None = Field(
        None, max_length=200, description="The area of the product, e.g. 'Reports'."
    )
    timestamp: str | int | None = Field(
        None, description="ISO 8601 (no zone means UTC) or epoch seconds/milliseconds; default now."
    )
    message_id: str | None = Field(
        None, max_length=255, description="Your id for this event: sent again, it is stored once."
    )
    properties: dict[str, Any] | None = None
    duration_seconds: float | None = Field(
        None, ge=0, description="Time spent, when you measure it."
    )
    account_name: str | None = Field(
        None, description="Names the account if it is created by this event."
    )


class MetricIn(Schema):
    account_external_id: str = Field(..., max_length=255)
    metric: str = Field(..., max_length=100, description="The metric's key, e.g. 'api_calls'.")
    value: float
    date: str | None = Field(
        None, description="YYYY-MM-DD in the workspace's time zone, or a timestamp; default today."
    )


class IngestError(Schema):
    index: int | None
    reason: str
    field: str
    message: str


class IngestOut(Schema):
    received: int
    stored: int
    duplicates: int
    rejected: int
    errors: list[IngestError]
    duplicate_indexes: list[int]


def _openapi(item_schema, key: str, limit: int) -> dict:
    array = {"type": "array", "items": item_schema.model_json_schema(), "maxItems": limit}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            array,
                            {"type": "object", "properties": {key: array}, "required": [key]},
                        ]
                    }
                }
            },
        }
    }


def _json(data: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(data), status=status, content_type="application/json")


def _refuse_body(actor, error: BodyError, body: bytes) -> HttpResponse:
    """Answer 4xx for a body that cannot be used, and keep it in the ingestion log."""
    reason = (
        Reason.TOO_LARGE
        if error.status == 413
        else (Reason.INVALID_JSON if error.status == 400 else Reason.INVALID_ITEM)
    )
    intake = Intake(
        source=Source.API,
        received=1,
        rejections=[Rejection(None, reason, error.field, error.message, sample_of(body))],
    )
    ingest(actor.workspace, intake)
    return _json(
        {
            "detail": f"{error.field}: {error.message}",
            "errors": [{"field": error.field, "message": error.message}],
        },
        error.status,
    )


def _receive(request, key: str, limit: int, build) -> HttpResponse:
    actor = request.auth
    actor.require(INGEST)
    body = request.body
    if len(body) > MAX_EVENTS_BYTES:
        error = BodyError(
            413, "body", f"is {len(body):,} bytes; the limit is {MAX_EVENTS_BYTES:,} per request"
        )
        return _refuse_body(actor, error, body[:2000])
    # Thousands of small dicts stay alive until the answer is sent; they form no cycles,
    # so the cyclic collector would only scan them again and again.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return _refuse_body(actor, BodyError(400, "body", f"is not valid JSON: {exc}"), body)
        try:
            items = items_of(parsed, key, limit)
        except BodyError as error:
            return _refuse_body(actor, error, body)
        intake = build(actor, items, NUL_ESCAPE in body)
        report = ingest(actor.workspace, intake, samples=dict(enumerate(items)))
        return _json(report.as_json())
    finally:
        if gc_was_enabled:
            gc.enable()


@router.post(
    "/events",
    response={200: IngestOut},
    summary="Send usage events",
    description=(
        f"Up to {MAX_EVENTS:,} events (or 5 MB) per request, as a JSON array or "
        '`{"events": [...]}`. Needs a token with the `ingest` scope. The answer counts what was '
        "stored, what was a duplicate of an earlier `message_id`, and what was refused, with "
        "each refused item's index, field and reason. A 2xx answer means the events are committed."
    ),
    openapi_extra=_openapi(EventIn, "events", MAX_EVENTS),
)
def post_events(request):
    return _receive(
        request,
        "events",
        MAX_EVENTS,
        lambda actor, items, nul: events_intake(items, to_ms_now(), check_nul=nul),
    )


@router.post(
    "/metrics",
    response={200: IngestOut},
    summary="Send custom metric values",
    description=(
        "Daily values of custom metrics per account, e.g. API calls or storage used: a JSON array "
        'or `{"metrics": [...]}`. A later value for the same account, metric and day replaces '
        "the earlier one. Needs the `ingest` scope."
    ),
    openapi_extra=_openapi(MetricIn, "metrics", MAX_METRICS),
)
def post_metrics(request):
    return _receive(
        request,
        "metrics",
        MAX_METRICS,
        lambda actor, items, nul: metrics_intake(
            items, to_ms_now(), actor.workspace.time_zone, check_nul=nul
        ),
    )


def to_ms_now() -> int:
    return to_ms(timezone.now())
