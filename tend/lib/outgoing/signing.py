"""Standard Webhooks 1.0 signatures (symmetric, ``v1``), so receivers can use any of its
libraries to check that a delivery came from us and was not replayed.

* Secret: ``whsec_`` + base64 of 24–64 random bytes, one per endpoint.
* Signed content: ``{webhook-id}.{webhook-timestamp}.{body}``, HMAC-SHA256, base64.
* Headers: ``webhook-id`` (the message id, the same on every retry — the receiver's
  idempotency key), ``webhook-timestamp`` (Unix seconds of *this attempt*), and
  ``webhook-signature``: ``v1,<signature>``, several separated by spaces while a secret is
  being rotated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
DEFAULT_TOLERANCE_SECONDS = 5 * 60
# Ids and timestamps go into the signed string separated by dots, so they may not hold one.
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_\-]{1,256}")


class InvalidSignature(Exception):
    """A delivery that does not verify; the message says which check failed."""


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def new_message_id() -> str:
    """A fresh ``webhook-id``: made once per event and kept for all its retries."""
    return "msg_" + secrets.token_urlsafe(18)


def secret_key(secret: str) -> bytes:
    """The raw key inside a ``whsec_`` secret (the prefix is optional, as in the spec's libraries)."""
    encoded = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is whsec_ followed by base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError("a webhook secret holds between 24 and 64 bytes")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one attempt."""
    if not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError("a message id is 1–256 letters, digits, '-' or '_'")
    signed = f"{message_id}.{int(timestamp)}.".encode() + bytes(body)
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_headers(
    secret: str | Sequence[str],
    message_id: str,
    body: bytes,
    *,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The three ``webhook-*`` headers for one attempt.

    Pass several secrets (newest first) during a rotation; every one signs, and a receiver
    holding either secret accepts the delivery.
    """
    keys = [secret] if isinstance(secret, str) else list(secret)
    if not keys:
        raise ValueError("at least one secret is needed to sign")
    when = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(when),
        "webhook-signature": " ".join(sign(key, message_id, when, body) for key in keys),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Raise ``InvalidSignature`` unless ``headers`` carry a valid, fresh signature of ``body``.

    What a receiver does (and what our tests do as one): header names in any case, a
    timestamp within ``tolerance_seconds`` either way, any one ``v1`` signature matching,
    compared in constant time.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    message_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not message_id or not stamp or not signatures:
        raise InvalidSignature("webhook-id, webhook-timestamp and webhook-signature are required")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise InvalidSignature("webhook-timestamp is not a whole number of seconds") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise InvalidSignature("webhook-timestamp is outside the allowed tolerance")
    try:
        expected = sign(secret, message_id, timestamp, body).encode()
    except ValueError as error:
        raise InvalidSignature(str(error)) from None
    for candidate in signatures.split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected):
            return
    raise InvalidSignature("no v1 signature matches")
