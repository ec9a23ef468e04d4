"""Secrets we must be able to read back (webhook signing secrets, later SFTP and CRM
credentials), encrypted at rest.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under keys from the
environment: ``TEND_SECRETS_KEYS``, comma-separated, newest first. Each entry is a Fernet
key (44 characters of URL-safe base64) or any passphrase, stretched to one with SHA-256.
When the variable is empty the key is derived from ``SECRET_KEY`` (which production sets
from the environment too), so a development install works with nothing configured.

Rotation: put the new key first and keep the old ones after it; values sealed under any of
them still open, and ``seal`` always uses the first. A database copied without the
environment holds only ciphertext.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PREFIX = "fernet:"


class CannotUnseal(Exception):
    """The value was sealed under a key that is not configured (any more)."""


def _fernet_key(entry: str) -> bytes:
    raw = entry.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32 and len(raw) == 44:
            return raw
    except ValueError:
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(b"tend-sealing:" + raw).digest())


def _keys() -> MultiFernet:
    from django.conf import settings

    entries = [
        e for e in (getattr(settings, "TEND_SECRETS_KEYS", "") or "").split(",") if e.strip()
    ]
    if not entries:
        entries = [settings.SECRET_KEY]
    return MultiFernet([Fernet(_fernet_key(e)) for e in entries])


def seal(plain: str) -> str:
    """The stored form of ``plain``: ``fernet:<token>``."""
    return PREFIX + _keys().encrypt(plain.encode("utf-8")).decode("ascii")


def unseal(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise CannotUnseal("the value is not sealed")
    try:
        return _keys().decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise CannotUnseal(
            "the value was sealed under a key that is not in TEND_SECRETS_KEYS"
        ) from None
