"""What the accounts app's routers share: keyset pages and the bulk ``PUT`` body."""

import gc

import orjson
from django.http import HttpResponse
from ninja.errors import HttpError

from tend.lib.cursor import InvalidCursor, decode_cursor, encode_cursor
from tend.lib.errors import InvalidInput
from tend.workspaces.access import WRITE


def page_by_id(queryset, cursor: str | None, limit: int) -> tuple[list, str | None]:
    """Return up to ``limit`` rows with ids after the cursor's, and the cursor for the next page.

    Keyset on id: no offset to grow slow, no cap, and rows inserted meanwhile never shift a
    page. One extra row is fetched to know whether another page exists, so the last page
    says ``next_cursor: null`` instead of sending the client to an empty one.
    """
    if cursor:
        try:
            after = decode_cursor(cursor).get("id")
        except InvalidCursor as exc:
            raise InvalidInput("cursor", str(exc)) from exc
        if not isinstance(after, int):
            raise InvalidInput("cursor", "cursor is not one this API issued")
        queryset = queryset.filter(id__gt=after)
    rows = list(queryset.order_by("id")[: limit + 1])
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor({"id": rows[-1].id})
    return rows, None


def bulk_upsert_response(request, upsert) -> HttpResponse:
    """Run a bulk upsert on the request's JSON array and answer with its per-item results.

    The body is parsed with orjson directly rather than through a Ninja schema: validating
    tens of thousands of items with pydantic before the upsert validates them again would
    double the cost of the largest requests. The upsert checks every field per item.
    """
    actor = request.auth
    actor.require(WRITE)
    # Tens of thousands of small dicts that all stay alive until the answer is sent make
    # the cyclic garbage collector scan them again and again for nothing (it cost ~15% of
    # a 5,000-item request); they form no cycles, so collection waits until the end.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            items = orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise HttpError(400, "Malformed JSON") from exc
        result = upsert(actor, items, source="api")
        return HttpResponse(orjson.dumps(result.as_json()), content_type="application/json")
    finally:
        if gc_was_enabled:
            gc.enable()


def bulk_openapi(item_schema) -> dict:
    """OpenAPI for a bulk ``PUT`` whose body is read without a Ninja body parameter."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "items": item_schema.model_json_schema(),
                        "maxItems": 50000,
                    }
                }
            },
        }
    }
