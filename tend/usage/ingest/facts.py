"""What every wire format is turned into before anything is stored.

Each ingestion endpoint (native API, Segment, Totango, Planhat) parses its own format into
one :class:`Intake`: events, account and end-user facts (from group/identify calls and
attribute updates), custom metric values, and the items it refused with a reason. The one
write path, :func:`tend.usage.actions.ingest`, stores an intake in one transaction and
answers with an :class:`IngestReport`.

The checks here are plain Python on purpose: a batch of thousands of events is checked per
item at a few microseconds each, where a pydantic model per item would cost several times
the parse (see docs/performance.md).
"""

import datetime
import hashlib
import math
from dataclasses import dataclass, field

import orjson

from tend.lib.dates import UTC

MAX_KEY = 255  # external ids and message ids
MAX_NAME = 200  # activity and module names
MAX_SAMPLE = 1000  # characters of a refused item kept in the ingestion log
FUTURE_LIMIT_MS = 24 * 3600 * 1000
# Epoch numbers above this are milliseconds, below it seconds (1e11 s is the year 5138).
MS_THRESHOLD = 100_000_000_000


class Reason:
    """Stable codes for why an item was refused: the API and the ingestion page show them."""

    INVALID_JSON = "invalid_json"
    INVALID_ITEM = "invalid_item"
    MISSING_FIELD = "missing_field"
    INVALID_FIELD = "invalid_field"
    INVALID_TIMESTAMP = "invalid_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    NO_ACCOUNT = "no_account"
    UNKNOWN_ACCOUNT = "unknown_account"
    UNKNOWN_USER = "unknown_user"
    INVALID_ATTRIBUTE = "invalid_attribute"
    TOO_LARGE = "too_large"
    UNSUPPORTED = "unsupported"


class Refused(ValueError):
    """Raised by the parsing helpers; the caller turns it into a :class:`Rejection`."""

    def __init__(self, reason: str, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.reason, self.field, self.message = reason, field, message


@dataclass(slots=True)
class EventFact:
    index: int
    account: str | None  # external id; None when it must come from the user's account
    user: str | None
    activity: str
    module: str
    ts: int  # epoch ms
    message_id: str | None = None
    properties: dict | None = None
    duration: float | None = None
    account_name: str | None = None  # names an account created on first sight


@dataclass(slots=True)
class AccountFact:
    """Something a call says about an account: its name and attributes (raw, unmapped)."""

    index: int
    external_id: str
    name: str | None = None
    traits: dict = field(default_factory=dict)
    parent: str | None = None
    message_id: str | None = None


@dataclass(slots=True)
class UserFact:
    """Something a call says about an end user."""

    index: int
    external_id: str
    account: str | None = None
    email: str | None = None
    name: str | None = None
    traits: dict = field(default_factory=dict)
    message_id: str | None = None


@dataclass(slots=True)
class AliasFact:
    """Segment ``alias``: the end user known as ``previous`` is now ``external_id``."""

    index: int
    previous: str
    external_id: str
    message_id: str | None = None


@dataclass(slots=True)
class MetricFact:
    index: int
    account: str
    metric: str
    value: float
    day: int  # local day number


@dataclass(slots=True)
class Rejection:
    index: int | None
    reason: str
    field: str
    message: str
    sample: str = ""

    def as_json(self) -> dict:
        return {
            "index": self.index,
            "reason": self.reason,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class Intake:
    """One request's worth of normalized input from one source."""

    source: str
    received: int = 0
    events: list[EventFact] = field(default_factory=list)
    accounts: list[AccountFact] = field(default_factory=list)
    users: list[UserFact] = field(default_factory=list)
    aliases: list[AliasFact] = field(default_factory=list)
    metrics: list[MetricFact] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def refuse(self, index: int | None, item, exc: Refused) -> None:
        self.rejections.append(
            Rejection(index, exc.reason, exc.field, exc.message, sample_of(item))
        )


@dataclass
class IngestReport:
    received: int
    stored: int
    duplicates: int
    rejections: list[Rejection]
    duplicate_indexes: list[int] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({(r.index if r.index is not None else id(r)) for r in self.rejections})

    def as_json(self) -> dict:
        return {
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "errors": [r.as_json() for r in self.rejections],
            "duplicate_indexes": self.duplicate_indexes,
        }


# --- helpers for parsers ----------------------------------------------------------------------


def sample_of(item) -> str:
    """The start of an item as JSON, for the ingestion log."""
    if isinstance(item, bytes | bytearray):
        text = bytes(item[: MAX_SAMPLE * 4]).decode("utf-8", "replace")
    elif isinstance(item, str):
        text = item
    else:
        try:
            text = orjson.dumps(item, default=str).decode()
        except TypeError:
            text = repr(item)
    text = text.replace("\x00", "\\x00")  # PostgreSQL text cannot hold NUL
    return text if len(text) <= MAX_SAMPLE else text[: MAX_SAMPLE - 1] + "…"


def key_text(value, field: str, *, required: bool = True) -> str | None:
    """An external id or message id: text (numbers are accepted and written as text)."""
    if value is None or value == "":
        if required:
            raise Refused(Reason.MISSING_FIELD, field, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise Refused(Reason.INVALID_FIELD, field, f"expected text, got {type(value).__name__}")
    text = str(value).strip()
    if not text:
        if required:
            raise Refused(Reason.MISSING_FIELD, field, "is required")
        return None
    if len(text) > MAX_KEY:
        raise Refused(Reason.INVALID_FIELD, field, f"is longer than {MAX_KEY} characters")
    return text


def name_text(value, field: str, *, required: bool = True) -> str:
    if value is None or value == "":
        if required:
            raise Refused(Reason.MISSING_FIELD, field, "is required")
        return ""
    if not isinstance(value, str):
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        else:
            raise Refused(Reason.INVALID_FIELD, field, f"expected text, got {type(value).__name__}")
    text = value.strip()
    if required and not text:
        raise Refused(Reason.MISSING_FIELD, field, "is required")
    if len(text) > MAX_NAME:
        raise Refused(Reason.INVALID_FIELD, field, f"is longer than {MAX_NAME} characters")
    return text


def parse_timestamp(value, field: str, now_ms: int, *, default_now: bool = True) -> int:
    """An instant as epoch ms from ISO 8601 text or an epoch number (seconds or ms).

    Text without a zone is UTC. Missing means "now" (when ``default_now``). More than 24 hours
    ahead of ``now_ms`` is refused: a clock that far off would put the event in the future of
    every metric.
    """
    if value is None or value == "":
        if default_now:
            return now_ms
        raise Refused(Reason.MISSING_FIELD, field, "is required")
    if isinstance(value, bool):
        raise Refused(Reason.INVALID_TIMESTAMP, field, "expected a timestamp, got true/false")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise Refused(Reason.INVALID_TIMESTAMP, field, f"{value!r} is not a timestamp")
        ms = int(value if value >= MS_THRESHOLD else value * 1000)
    elif isinstance(value, str):
        text = value.strip()
        try:
            if text.isdigit():
                number = int(text)
                ms = number if number >= MS_THRESHOLD else number * 1000
            else:
                moment = datetime.datetime.fromisoformat(text)
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=UTC)
                ms = int(moment.timestamp() * 1000)
        except (ValueError, OverflowError):
            raise Refused(
                Reason.INVALID_TIMESTAMP, field, f"{value[:60]!r} is not an ISO 8601 timestamp"
            ) from None
    else:
        raise Refused(
            Reason.INVALID_TIMESTAMP, field, f"expected a timestamp, got {type(value).__name__}"
        )
    if ms > now_ms + FUTURE_LIMIT_MS:
        raise Refused(
            Reason.FUTURE_TIMESTAMP,
            field,
            "is more than 24 hours in the future (check the sender's clock)",
        )
    return ms


def parse_duration(value, field: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refused(Reason.INVALID_FIELD, field, "expected a number of seconds")
    if not math.isfinite(value) or value < 0:
        raise Refused(Reason.INVALID_FIELD, field, "expected a number of seconds, 0 or more")
    return float(value)


def parse_properties(value, field: str) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Refused(Reason.INVALID_FIELD, field, "expected an object")
    return value or None


def message_key(message_id: str) -> int:
    """The signed 64-bit key a message id is deduplicated by (see ReceivedMessage)."""
    return int.from_bytes(
        hashlib.blake2b(message_id.encode(), digest_size=8).digest(), "big", signed=True
    )
