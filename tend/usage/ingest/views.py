"""The wire-format endpoints under ``/ingest/``: Segment, the Totango pixel, Planhat analytics.

Each view only speaks its vendor's protocol: it reads the key and the body, has the parser
of its format (``segment.py``, ``totango.py``, ``planhat.py``) build an
:class:`~tend.usage.ingest.facts.Intake`, stores it with
:func:`tend.usage.actions.ingest.ingest` inside the key's workspace scope, and answers the
way that vendor's clients expect. The answer is sent only after ``ingest()`` returned, so a
2xx always means committed; a database failure is a 500, which every client retries.

These views are CSRF-exempt (clients are servers and SDKs, not browsers with a session) and
never use the session: the key in each request is the only credential. WorkspaceMiddleware
scopes only bearer and session callers, so each view opens its key's workspace scope itself.
"""

import base64
import binascii
import gc
import logging
from contextlib import contextmanager

import orjson
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django_scopes import scope

from tend.lib.dates import to_ms
from tend.usage.actions.ingest import ingest
from tend.usage.actions.settings import settings_for
from tend.usage.ingest import planhat, segment, totango
from tend.usage.ingest.facts import Intake, Reason, Rejection, sample_of
from tend.usage.ingest.keys import ingest_actor
from tend.usage.ingest.wire import NUL_ESCAPE
from tend.usage.models import Source

log = logging.getLogger("tend.usage.ingest")

# A 1×1 transparent GIF, what Totango's collector answers to every call.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
# gzip adds a few bytes to incompressible data; the real limit applies after inflating.
GZIP_SLACK = 1024
MAX_ERRORS_SHOWN = 20


# --- shared -------------------------------------------------------------------------------


@contextmanager
def _cyclic_gc_paused():
    """Thousands of small dicts stay alive while a big body is handled; they form no cycles,
    so the cyclic collector would only scan them again and again (as in ``api/events.py``)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Samples:
    """Index → sample text of the items of a body, made only for the few that are refused
    while storing (``ingest(samples=...)`` asks with ``.get``)."""

    __slots__ = ("items", "clean")

    def __init__(self, items: list, clean=None):
        self.items, self.clean = items, clean

    def get(self, index, default=""):
        if not isinstance(index, int) or not 0 <= index < len(self.items):
            return default
        item = self.items[index]
        return sample_of(self.clean(item) if self.clean else item)


def _now_ms() -> int:
    return to_ms(timezone.now())


def _json(data, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(data), status=status, content_type="application/json")


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _log_refused_body(actor, source: str, reason: str, field: str, message: str, sample) -> None:
    """Keep a body refused as a whole in the ingestion log of the key's workspace."""
    intake = Intake(
        source=source,
        received=1,
        rejections=[Rejection(None, reason, field, message, sample_of(sample))],
    )
    with scope(workspace=actor.workspace.id):
        ingest(actor.workspace, intake)


def _key_hint(key: str | None) -> str:
    """Enough of a key to recognise it in a log line, never all of it."""
    return f"{key[:12]}…" if key else "none"


# --- Segment ------------------------------------------------------------------------------


def _segment_error(status: int, code: str, message: str) -> HttpResponse:
    # Both Segment-shaped Python clients read "code" and "message" from an error body.
    return _json({"code": code, "message": message}, status)


def _basic_username(request) -> str | None:
    """The write key sent as the HTTP Basic username (the password is empty)."""
    kind, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if kind.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username = decoded.partition(":")[0].strip()
    return username or None


@csrf_exempt
def segment_batch(request):
    return _segment(request, None, segment.MAX_BATCH_BYTES)


@csrf_exempt
def segment_message(request, kind: str):
    return _segment(request, kind, segment.MAX_MESSAGE_BYTES)


def _segment(request, kind: str | None, limit: int) -> HttpResponse:
    """Steps: method, size, inflate, parse, key (body ``writeKey``, else the Basic username),
    parse the messages, store, answer 200. A body refused as a whole gets 4xx and, when its
    key is known, a line in the ingestion log."""
    if request.method != "POST":
        response = _segment_error(405, "method_not_allowed", "use POST")
        response["Allow"] = "POST"
        return response
    basic_key = _basic_username(request)
    encoding = request.META.get("HTTP_CONTENT_ENCODING", "")
    gzipped = encoding.strip().lower() == "gzip"
    raw_limit = limit + GZIP_SLACK if gzipped else limit
    actor = None
    sample: bytes = b""
    with _cyclic_gc_paused():
        try:
            if _content_length(request) > raw_limit:
                raise segment.too_large(limit)
            raw = request.body
            if len(raw) > raw_limit:
                raise segment.too_large(limit)
            # Until it is inflated, a gzip body's bytes say nothing to a reader of the log.
            sample = f"(gzip body of {len(raw):,} bytes)".encode() if gzipped else raw
            body = segment.inflate(raw, encoding, limit)
            sample = body
            payload = segment.load(body)
            key = segment.body_write_key(payload) or basic_key
            if key is None:
                return _segment_error(
                    401,
                    "missing_write_key",
                    "send the write key as writeKey in the body or as the HTTP Basic username",
                )
            actor = ingest_actor(key)
            if actor is None:
                log.warning(
                    "Segment call refused: write key %s is not an ingest key", _key_hint(key)
                )
                return _segment_error(
                    401,
                    "invalid_write_key",
                    "the write key is unknown, revoked, or its token lacks the 'ingest' scope",
                )
            with scope(workspace=actor.workspace.id):
                module_property = settings_for(actor.workspace).module_property
                if kind is None:
                    intake, messages = segment.batch_intake(
                        payload, _now_ms(), module_property, body=body
                    )
                else:
                    intake = segment.message_intake(
                        kind, payload, _now_ms(), module_property, body=body
                    )
                    messages = [payload]
                report = ingest(
                    actor.workspace,
                    intake,
                    samples=_Samples(messages, segment.without_write_key),
                )
        except segment.BodyError as error:
            if actor is None and basic_key:
                actor = ingest_actor(basic_key)
            if actor is not None:
                _log_refused_body(
                    actor,
                    Source.SEGMENT,
                    error.reason,
                    "body",
                    error.message,
                    segment.redact_write_key(sample),
                )
            else:
                log.warning("Segment body refused (%s) from a caller with no known key", error.code)
            return _segment_error(error.status, error.code, error.message)
    return _json(
        {
            "success": True,
            "received": report.received,
            "stored": report.stored,
            "duplicates": report.duplicates,
            "rejected": report.rejected,
            "errors": [r.as_json() for r in report.rejections[:MAX_ERRORS_SHOWN]],
        }
    )


# --- Totango ------------------------------------------------------------------------------


def _pixel() -> HttpResponse:
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
def totango_pixel(request):
    """Always a 1×1 GIF with 200, as Totango answers (clients treat anything else as a network
    error); what could not be used is refused in the ingestion log instead."""
    params = request.GET.dict()
    try:
        if request.method == "POST":
            params.update(request.POST.dict())
    except (RequestDataTooBig, SuspiciousOperation) as exc:
        actor = ingest_actor(totango.service_id(params))
        if actor is None:
            log.warning("Totango pixel call with an unreadable body: %s", exc)
        else:
            _log_refused_body(
                actor,
                Source.TOTANGO,
                Reason.TOO_LARGE,
                "body",
                str(exc),
                totango.sample_params(params),
            )
        return _pixel()
    key = totango.service_id(params)
    actor = ingest_actor(key)
    if actor is None:
        log.warning(
            "Totango pixel call ignored: service id (sdr_s) %s is not an ingest key", _key_hint(key)
        )
        return _pixel()
    with scope(workspace=actor.workspace.id):
        ingest(
            actor.workspace,
            totango.pixel_intake(params, _now_ms()),
            samples=_Samples([totango.sample_params(params)]),
        )
    return _pixel()


# --- Planhat ------------------------------------------------------------------------------


def _planhat_error(status: int, field: str, message: str, item=None) -> HttpResponse:
    return _json(
        {"processed": 0, "errors": [{"item": item, "error": f"{field}: {message}"}]}, status
    )


@csrf_exempt
def planhat_analytics(request, key: str):
    """``/analytics/<key>`` and ``/analytics/bulk/<key>``: one activity or an array of them."""
    return _planhat(request, key, "analytics")


@csrf_exempt
def planhat_dimension_data(request, key: str):
    return _planhat(request, key, "dimensiondata")


def _planhat(request, key: str, kind: str) -> HttpResponse:
    """Steps: method, key (in the path; any Authorization header is ignored), size, parse,
    build the intake, store, answer ``{"processed": n, "errors": [...]}``."""
    if request.method != "POST":
        response = _planhat_error(405, "method", "use POST")
        response["Allow"] = "POST"
        return response
    actor = ingest_actor(key)
    if actor is None:
        log.warning("Planhat call refused: key %s is not an ingest key", _key_hint(key))
        return _planhat_error(
            401,
            "key",
            "the key in the URL is unknown, revoked, or its token lacks the 'ingest' scope",
        )
    workspace = actor.workspace
    limit = planhat.MAX_BODY_BYTES
    with _cyclic_gc_paused():
        if _content_length(request) > limit:
            return _planhat_refused(
                actor, 413, Reason.TOO_LARGE, f"is larger than {limit // 1024 // 1024} MB", b""
            )
        body = request.body
        if len(body) > limit:
            return _planhat_refused(
                actor, 413, Reason.TOO_LARGE, f"is larger than {limit // 1024 // 1024} MB", body
            )
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return _planhat_refused(
                actor, 400, Reason.INVALID_JSON, f"is not valid JSON: {exc}", body
            )
        if not isinstance(parsed, dict | list):
            return _planhat_refused(
                actor, 400, Reason.INVALID_ITEM, "expected an object or an array of objects", body
            )
        items = planhat.items_of(parsed)
        if len(items) > planhat.MAX_ITEMS:
            return _planhat_refused(
                actor,
                413,
                Reason.TOO_LARGE,
                f"has {len(items):,} items; the limit is {planhat.MAX_ITEMS:,} per request",
                body,
            )
        with scope(workspace=workspace.id):
            check_nul = NUL_ESCAPE in body
            if kind == "dimensiondata":
                intake = planhat.dimension_intake(
                    items, _now_ms(), workspace.time_zone, check_nul=check_nul
                )
            else:
                module_property = settings_for(workspace).module_property
                intake = planhat.analytics_intake(
                    items, _now_ms(), module_property, check_nul=check_nul
                )
            report = ingest(workspace, intake, samples=_Samples(items))
        errors = [
            {
                "item": items[r.index] if r.index is not None else None,
                "error": f"{r.field}: {r.message}",
            }
            for r in report.rejections
        ]
        return _json({"processed": report.received - report.rejected, "errors": errors})


def _planhat_refused(actor, status: int, reason: str, message: str, body: bytes) -> HttpResponse:
    _log_refused_body(actor, Source.PLANHAT, reason, "body", message, body)
    return _planhat_error(status, "body", message)
