"""What came of one outgoing request, classified so callers know whether to try again."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum
from http import HTTPStatus

# A Retry-After further out than this is read as this: the backoff schedule's longest wait.
MAX_RETRY_AFTER_SECONDS = 10 * 3600


class Outcome(StrEnum):
    DELIVERED = "delivered"  # 2xx: the receiver took it
    RETRY = "retry"  # may work later: 5xx, 429, 408, timeouts, connection and DNS failures
    PERMANENT = "permanent"  # will not work as configured: other 4xx, 3xx, refused target
    GONE = "gone"  # 410: the receiver asks us to stop; disable the endpoint


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reason: str  # one readable sentence for logs and the UI
    elapsed: float  # seconds from the call to the result
    status_code: int | None = None
    response_body: bytes = b""  # at most max_response_bytes of it
    body_truncated: bool = False
    retry_after: float | None = None  # seconds the receiver asked us to wait (429/503)
    location: str | None = None  # where a 3xx pointed (never followed)
    refused: bool = False  # stopped by the URL/address rules before any connection
    address: str | None = None  # the IP address connected to

    @property
    def delivered(self) -> bool:
        return self.outcome is Outcome.DELIVERED

    @property
    def should_retry(self) -> bool:
        return self.outcome is Outcome.RETRY

    @property
    def response_text(self) -> str:
        """The kept part of the body as text, for logs (undecodable bytes replaced)."""
        return self.response_body.decode("utf-8", errors="replace")


def classify_status(status: int) -> Outcome:
    if 200 <= status <= 299:
        return Outcome.DELIVERED
    if status == 410:
        return Outcome.GONE
    # 408 and 425 say "send it again later" in so many words; 429 asks to slow down.
    if status in (408, 425, 429) or 500 <= status <= 599:
        return Outcome.RETRY
    return Outcome.PERMANENT


def status_phrase(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP date).

    Capped at ``MAX_RETRY_AFTER_SECONDS``; None when absent or unreadable.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(int(value))
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        current = now if now is not None else time.time()
        seconds = max(0.0, when.timestamp() - current)
    return min(seconds, float(MAX_RETRY_AFTER_SECONDS))


def describe_response(status: int, *, retry_after: float | None, location: str | None) -> str:
    phrase = status_phrase(status)
    outcome = classify_status(status)
    if 300 <= status <= 399:
        where = f" to {location}" if location else ""
        return (
            f"{phrase}: redirect{where} not followed (redirects are never followed; update the URL)"
        )
    if outcome is Outcome.GONE:
        return f"{phrase}: the receiver asked to stop sending to this URL"
    if outcome is Outcome.RETRY and retry_after is not None:
        return f"{phrase}; the receiver asked to retry after {retry_after:g} s"
    return phrase
