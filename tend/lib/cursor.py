"""Opaque cursors for keyset pagination: no offset, no cap, stable under inserts."""

import base64
import binascii

import orjson


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
