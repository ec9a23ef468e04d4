"""Signed keyset cursors for searches.

A cursor holds the position of the last row of a page — its sort key values and its id —
with the population and the sort it belongs to, signed with the server's secret key
(HMAC-SHA256, cut to 128 bits). So a client cannot forge a position, a cursor of one sort
is refused by another, and a cursor whose values no longer fit the sort (an attribute
whose type changed between two pages) is refused rather than compared across types.

Values keep their type through JSON: instants as ``{"t": iso}``, dates as ``{"d": iso}``;
text, numbers and NULL as themselves.
"""

import base64
import binascii
import datetime

import orjson
from django.utils.crypto import constant_time_compare, salted_hmac

from tend.accounts.search.columns import DAY, INSTANT, NUMBER, TEXT, SortKey
from tend.lib.errors import InvalidInput

SALT = "tend.accounts.search.cursor"
NOT_OURS = "is not a cursor this search issued; start again without one"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode())


def _signature(payload: str) -> str:
    return _b64(salted_hmac(SALT, payload, algorithm="sha256").digest()[:16])


def _encode_value(value):
    if isinstance(value, datetime.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"d": value.isoformat()}
    return value


def _decode_value(value):
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if tag == "t":
            return datetime.datetime.fromisoformat(text)
        if tag == "d":
            return datetime.date.fromisoformat(text)
    if value is None or isinstance(value, str | int | float) and not isinstance(value, bool):
        return value
    raise ValueError("not a sort value")


_KINDS = {
    TEXT: lambda v: isinstance(v, str),
    NUMBER: lambda v: isinstance(v, int | float),
    INSTANT: lambda v: isinstance(v, datetime.datetime) and v.tzinfo is not None,
    DAY: lambda v: isinstance(v, datetime.date) and not isinstance(v, datetime.datetime),
}


def encode(population: str, keys: list[SortKey], values: list, last_id: int) -> str:
    payload = _b64(
        orjson.dumps(
            {
                "p": population,
                "s": ",".join(k.signature for k in keys),
                "v": [_encode_value(v) for v in values],
                "i": last_id,
            }
        )
    )
    return f"{payload}.{_signature(payload)}"


def decode(cursor: str, population: str, keys: list[SortKey], field: str = "cursor"):
    """``(sort values, last id)`` from a cursor issued for ``population`` and ``keys``;
    raises ``InvalidInput`` naming ``field`` otherwise."""
    payload, _, signature = cursor.partition(".")
    if not signature or not constant_time_compare(signature, _signature(payload)):
        raise InvalidInput(field, NOT_OURS)
    try:
        data = orjson.loads(_unb64(payload))
        raw_values, last_id = data["v"], data["i"]
        values = [_decode_value(v) for v in raw_values]
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise InvalidInput(field, NOT_OURS) from None
    if data.get("p") != population or not isinstance(last_id, int) or isinstance(last_id, bool):
        raise InvalidInput(field, NOT_OURS)
    if data.get("s") != ",".join(k.signature for k in keys) or len(values) != len(keys):
        raise InvalidInput(
            field, "belongs to another sort; send the same sort as the first page, or no cursor"
        )
    for key, value in zip(keys, values, strict=True):
        if value is not None and not _KINDS[key.kind](value):
            raise InvalidInput(
                field, f"no longer fits the sort by {key.name} (its type changed); start again"
            )
        if value is None and not key.nullable:
            raise InvalidInput(field, NOT_OURS)
    return values, last_id
