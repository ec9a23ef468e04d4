"""Opaque cursors for keyset pagination: no offset, no cap, stable under inserts."""

import base64
import binascii

import orjson

from tend.lib.errors import InvalidInput


class InvalidCursor(ValueError):
    pass


def encode_cursor(values: dict) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise InvalidCursor("cursor is not one this API issued") from exc
    if not isinstance(values, dict):
        raise InvalidCursor("cursor is not one this API issued")
    return values


def id_cursor(value: str | None, key: str = "id") -> int | None:
    """The id a keyset cursor of this API carries under ``key``, or None for the first page;
    a cursor this API did not issue is an ``InvalidInput`` on the ``cursor`` field."""
    if not value:
        return None
    try:
        found = decode_cursor(value).get(key)
    except InvalidCursor as exc:
        raise InvalidInput("cursor", str(exc)) from exc
    if not isinstance(found, int) or isinstance(found, bool):
        raise InvalidInput("cursor", "cursor is not one this API issued")
    return found


def id_page(queryset, cursor: str | None, limit: int) -> tuple[list, str | None]:
    """One page of ``queryset`` by ascending id after ``cursor`` (a cursor of this function):
    up to ``limit`` rows and the next page's cursor, None on the last page. One query."""
    after = id_cursor(cursor, "after")
    if after is not None:
        queryset = queryset.filter(id__gt=after)
    rows = list(queryset.order_by("id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor({"after": rows[-1].pk}) if more else None
