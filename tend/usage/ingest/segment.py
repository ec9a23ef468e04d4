"""The Segment spec (HTTP Tracking API): what ``segment-analytics-python``, ``rudder-sdk-python``
and every other Segment-shaped client send, parsed into an :class:`Intake`.

A body is one message (``/v1/track``, ``/v1/identify``, …) or a batch
``{"batch": [...], "context"?, "integrations"?, "sentAt"?, "writeKey"?}``. Each message is
checked on its own: a bad one is refused with a reason and the others are stored, as Segment
does (it answers 200 for everything but a malformed or oversized body).

How messages map onto Tend:

- ``group``: ``groupId`` is an account's external id, ``traits`` its name and attributes;
  with a ``userId`` the end user is linked to that account.
- ``identify``: ``userId`` is an end user's external id, ``traits`` their email, name and
  attributes; ``context.groupId`` (or ``traits.groupId``) links them to an account.
- ``track``: an event of the account in ``context.groupId``, else ``properties.groupId``,
  else the end user's known account; activity = ``event``; module = the property named by
  the workspace's ``module_property`` setting.
- ``page`` / ``screen``: an event named by the page's ``name`` ("Page viewed" without one),
  module from the module property or the page's ``category``.
- ``alias``: the end user known as ``previousId`` is now ``userId``.

The loop here runs for every message of batches of thousands, so it is plain Python with
no per-message allocation beyond the facts themselves, and no database access.
"""

import datetime
import re
import zlib

import orjson

from tend.usage.ingest.facts import (
    FUTURE_LIMIT_MS,
    MAX_KEY,
    MAX_NAME,
    AccountFact,
    AliasFact,
    EventFact,
    Intake,
    Reason,
    Refused,
    UserFact,
    key_text,
    name_text,
    parse_timestamp,
)
from tend.usage.ingest.traits import person_name
from tend.usage.ingest.wire import NUL_ESCAPE, has_nul, refuse_nul
from tend.usage.models import Source

MAX_MESSAGE_BYTES = 32 * 1024  # what Segment and segment-analytics-python allow per message
MAX_BATCH_BYTES = 500 * 1024  # per request, after decompression
TYPES = ("identify", "track", "page", "screen", "group", "alias")
DEFAULT_ACTIVITY = {"page": "Page viewed", "screen": "Screen viewed"}
_NUMBERS = (int, float)
_INFINITY = float("inf")


class BodyError(ValueError):
    """The body as a whole cannot be used: answered with ``status`` and nothing is stored."""

    def __init__(self, status: int, code: str, reason: str, message: str):
        super().__init__(message)
        self.status, self.code, self.reason, self.message = status, code, reason, message


# --- the body ------------------------------------------------------------------------------


def decompress(raw: bytes, limit: int) -> bytes:
    """Inflate a gzip body, stopping as soon as it would pass ``limit`` bytes.

    The cap is applied while inflating, so a small "zip bomb" never becomes a large buffer.
    Concatenated gzip members (allowed by the format) are inflated one after another.
    """
    out = bytearray()
    data = raw
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(data, limit + 1 - len(out))
        except zlib.error as exc:
            raise BodyError(
                400, "invalid_gzip", Reason.INVALID_JSON, f"body is not valid gzip: {exc}"
            ) from None
        if len(out) > limit:
            raise too_large(limit, "decompressed body")
        if not inflater.eof:
            raise BodyError(400, "invalid_gzip", Reason.INVALID_JSON, "body is truncated gzip")
        data = inflater.unused_data
    return bytes(out)


def too_large(limit: int, what: str = "body") -> BodyError:
    return BodyError(
        413,
        "payload_too_large",
        Reason.TOO_LARGE,
        f"{what} is larger than {limit // 1024} KB, the limit of this endpoint",
    )


def inflate(raw: bytes, content_encoding: str, limit: int) -> bytes:
    """The body as sent (gzip or plain), at most ``limit`` bytes once inflated."""
    encoding = content_encoding.strip().lower()
    if encoding == "gzip":
        raw = decompress(raw, limit)
    elif encoding not in ("", "identity"):
        raise BodyError(
            400,
            "unsupported_encoding",
            Reason.INVALID_JSON,
            f"Content-Encoding {content_encoding[:40]!r} is not supported (use gzip or none)",
        )
    if len(raw) > limit:
        raise too_large(limit)
    return raw


def load(body: bytes) -> dict:
    """The JSON object of a body."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BodyError(
            400, "invalid_json", Reason.INVALID_JSON, f"body is not valid JSON: {exc}"
        ) from None
    if not isinstance(payload, dict):
        raise BodyError(400, "invalid_request", Reason.INVALID_ITEM, "body must be a JSON object")
    return payload


def body_write_key(payload: dict) -> str | None:
    key = payload.get("writeKey")
    return key if isinstance(key, str) and key.strip() else None


_WRITE_KEY = re.compile(rb'("writeKey"\s*:\s*")[^"]*(")')


def redact_write_key(body: bytes) -> bytes:
    """A body's start for the ingestion log, without the write key in it."""
    return _WRITE_KEY.sub(rb"\1[redacted]\2", body[:4000])


def without_write_key(message):
    """A message as kept in the ingestion log: a single call carries the write key inside."""
    if isinstance(message, dict) and "writeKey" in message:
        return {name: value for name, value in message.items() if name != "writeKey"}
    return message


def batch_of(payload: dict) -> list:
    messages = payload.get("batch")
    if not isinstance(messages, list):
        raise BodyError(
            400,
            "invalid_request",
            Reason.INVALID_ITEM,
            'a batch body must have "batch": an array of messages',
        )
    return messages


# --- messages ------------------------------------------------------------------------------


def _ms_of(text) -> int | None:
    """An ISO 8601 instant as epoch ms, or None when it is not one (``sentAt`` is advisory)."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp() * 1000)


def _key(value, field: str, *, required: bool = False) -> str | None:
    """:func:`key_text` with a fast path for the usual case: a short text without edge spaces."""
    if value is None and not required:
        return None
    if (
        value.__class__ is str
        and 0 < len(value) <= MAX_KEY
        and not value[0].isspace()
        and not value[-1].isspace()
    ):
        return value
    return key_text(value, field, required=required)


def _name(value, field: str, *, required: bool = False) -> str:
    """:func:`name_text` with the same fast path as :func:`_key`."""
    if (
        value.__class__ is str
        and 0 < len(value) <= MAX_NAME
        and not value[0].isspace()
        and not value[-1].isspace()
    ):
        return value
    return name_text(value, field, required=required)


def _dict_or_none(value, field: str) -> dict | None:
    if value is None or isinstance(value, dict):
        return value
    raise Refused(Reason.INVALID_FIELD, field, f"expected an object, got {type(value).__name__}")


class SegmentParser:
    """Turns Segment messages into facts of one :class:`Intake`.

    ``batch_context`` is the batch's top-level ``context`` (merged under each message's own),
    ``sent_at`` the batch's ``sentAt``. ``check_size`` measures each message against
    :data:`MAX_MESSAGE_BYTES` (pointless when the whole body is smaller than that);
    ``check_nul`` looks for NUL characters (pointless when the body has no ``\u0000``).
    """

    def __init__(
        self,
        intake: Intake,
        now_ms: int,
        module_property: str,
        *,
        batch_context: dict | None = None,
        sent_at=None,
        check_size: bool = False,
        check_nul: bool = False,
    ):
        self.intake = intake
        self.now_ms = now_ms
        self.module_property = module_property
        self._module_field = f"properties.{module_property}"
        self.batch_context = batch_context if isinstance(batch_context, dict) else None
        self.check_size = check_size
        self.check_nul = check_nul
        self._sent_text = sent_at
        self._offset = self._offset_of(sent_at)

    def _offset_of(self, sent_at) -> int:
        """Client clock skew: receivedAt − sentAt, added to every timestamp (as Segment does)."""
        sent = _ms_of(sent_at)
        return 0 if sent is None else self.now_ms - sent

    def add(self, index: int, message, kind: str | None = None) -> None:
        """Parse one message (of type ``kind`` when the endpoint implies it); refuse it with a
        reason when it cannot be stored."""
        try:
            self._parse(index, message, kind)
        except Refused as exc:
            self.intake.refuse(index, without_write_key(message), exc)

    def _parse(self, index: int, message, kind: str | None) -> None:
        if not isinstance(message, dict):
            raise Refused(Reason.INVALID_ITEM, "message", "expected a message object")
        if kind is None:
            kind = message.get("type")
            if kind not in TYPES:
                if kind is None or kind == "":
                    raise Refused(Reason.MISSING_FIELD, "type", "is required")
                raise Refused(
                    Reason.INVALID_FIELD,
                    "type",
                    f"{str(kind)[:40]!r} is not a Segment message type ({', '.join(TYPES)})",
                )
        if self.check_nul and has_nul(message):
            raise refuse_nul("message")
        if self.check_size and len(orjson.dumps(message)) > MAX_MESSAGE_BYTES:
            raise Refused(
                Reason.TOO_LARGE, "message", f"is larger than {MAX_MESSAGE_BYTES // 1024} KB"
            )
        user = _key(message.get("userId"), "userId", required=False)
        anonymous = _key(message.get("anonymousId"), "anonymousId", required=False)
        # A group call without any user still describes an account: kept, unlike Segment.
        if user is None and anonymous is None and kind != "group":
            raise Refused(
                Reason.MISSING_FIELD, "userId", "a message needs a userId or an anonymousId"
            )
        message_id = _key(message.get("messageId"), "messageId", required=False)
        if kind == "track" or kind == "page" or kind == "screen":
            self._event(index, message, kind, user, message_id)
        elif kind == "identify":
            self._identify(index, message, user, message_id)
        elif kind == "group":
            self._group(index, message, user, message_id)
        else:
            self._alias(index, message, user, message_id)

    def _context_group(self, message: dict) -> str | None:
        """``context.groupId`` of the message, falling back to the batch's context."""
        context = _dict_or_none(message.get("context"), "context")
        group = context.get("groupId") if context else None
        if group is None and self.batch_context is not None:
            group = self.batch_context.get("groupId")
        return _key(group, "context.groupId", required=False)

    def _timestamp(self, message: dict) -> int:
        offset = self._offset
        sent_at = message.get("sentAt")
        if sent_at is not None and sent_at != self._sent_text:
            offset = self._offset_of(sent_at)
        value = message.get("timestamp")
        # Fast path for what every client sends, ISO 8601 with a zone; anything else (and
        # every refusal) goes through parse_timestamp.
        if value.__class__ is str:
            try:
                moment = datetime.datetime.fromisoformat(value)
            except ValueError:
                moment = None
            if moment is not None and moment.tzinfo is not None:
                ms = int(moment.timestamp() * 1000) + offset
                if ms <= self.now_ms + FUTURE_LIMIT_MS:
                    return ms
        # The future check applies to the corrected time: a client clock days ahead is fine
        # when its sentAt is just as far ahead.
        return parse_timestamp(value, "timestamp", self.now_ms - offset) + offset

    def _event(self, index: int, message: dict, kind: str, user, message_id) -> None:
        properties = message.get("properties")
        if properties is not None and properties.__class__ is not dict:
            properties = _dict_or_none(properties, "properties")  # raises
        account = self._context_group(message)
        if account is None and properties:
            account = _key(properties.get("groupId"), "properties.groupId", required=False)
        if account is None and user is None:
            raise Refused(
                Reason.NO_ACCOUNT,
                "context.groupId",
                "an anonymous event (no userId) needs its account in context.groupId or "
                "properties.groupId",
            )
        module = ""
        duration = None
        if properties:
            module = _name(properties.get(self.module_property), self._module_field)
            seconds = properties.get("duration_seconds")
            if seconds.__class__ in _NUMBERS and 0 <= seconds < _INFINITY:  # not bool, not NaN
                duration = float(seconds)
        if kind == "track":
            activity = _name(message.get("event"), "event", required=True)
        else:
            activity = _name(message.get("name"), "name", required=False) or DEFAULT_ACTIVITY[kind]
            if not module:
                module = _name(message.get("category"), "category", required=False)
        self.intake.events.append(
            EventFact(
                index,
                account,
                user,
                activity,
                module,
                self._timestamp(message),
                message_id,
                properties or None,
                duration,
            )
        )

    def _identify(self, index: int, message: dict, user, message_id) -> None:
        if user is None:
            raise Refused(
                Reason.MISSING_FIELD,
                "userId",
                "identify needs a userId: Tend keeps end users by their id, so traits of an "
                "anonymous visitor have no one to belong to (identify again once they sign in)",
            )
        traits = _dict_or_none(message.get("traits"), "traits") or {}
        # RudderStack's client sends identify traits in context.traits only; the spec allows
        # user traits there on any call. The message's own traits win.
        context = message.get("context")
        shared = context.get("traits") if isinstance(context, dict) else None
        if isinstance(shared, dict) and shared:
            traits = {**shared, **traits}
        account = self._context_group(message)
        if account is None and traits:
            account = _key(traits.get("groupId"), "traits.groupId", required=False)
        email = traits.get("email")
        self.intake.users.append(
            UserFact(
                index,
                user,
                account=account,
                email=email.strip() if isinstance(email, str) and email.strip() else None,
                name=person_name(traits) if traits else None,
                traits=traits,
                message_id=message_id,
            )
        )

    def _group(self, index: int, message: dict, user, message_id) -> None:
        group = _key(message.get("groupId"), "groupId", required=True)
        traits = _dict_or_none(message.get("traits"), "traits") or {}
        name = traits.get("name")
        parent = traits.get("parent_id", traits.get("parentId"))
        if parent is not None and parent != "":
            # A parent met for the first time is created too; the upsert links within a batch.
            parent = _key(parent, "traits.parent_id")
            self.intake.accounts.append(AccountFact(index, parent, message_id=message_id))
        self.intake.accounts.append(
            AccountFact(
                index,
                group,
                name=name.strip() if isinstance(name, str) and name.strip() else None,
                traits=traits,
                message_id=message_id,
            )
        )
        if user is not None:
            # Same index and message id: a duplicate or refusal of the call covers both facts.
            self.intake.users.append(UserFact(index, user, account=group, message_id=message_id))

    def _alias(self, index: int, message: dict, user, message_id) -> None:
        previous = _key(message.get("previousId"), "previousId", required=True)
        if user is None:
            raise Refused(Reason.MISSING_FIELD, "userId", "alias needs the new userId")
        self.intake.aliases.append(AliasFact(index, previous, user, message_id))


def batch_intake(
    payload: dict, now_ms: int, module_property: str, *, body: bytes
) -> tuple[Intake, list]:
    """The intake of a ``/v1/batch`` body (``payload`` parsed from ``body``), and its messages
    (for samples of refusals)."""
    messages = batch_of(payload)
    check_nul = NUL_ESCAPE in body
    if check_nul and has_nul(payload.get("context")):
        raise BodyError(
            400,
            "invalid_request",
            Reason.INVALID_FIELD,
            "the batch's context contains a NUL character (\\u0000), which cannot be stored",
        )
    intake = Intake(source=Source.SEGMENT, received=len(messages))
    parser = SegmentParser(
        intake,
        now_ms,
        module_property,
        batch_context=payload.get("context"),
        sent_at=payload.get("sentAt"),
        check_size=len(body) > MAX_MESSAGE_BYTES,
        check_nul=check_nul,
    )
    add = parser.add
    for index, message in enumerate(messages):
        add(index, message)
    return intake, messages


def message_intake(
    kind: str, payload: dict, now_ms: int, module_property: str, *, body: bytes
) -> Intake:
    """The intake of a single call (``/v1/track`` …); the path gives the message type."""
    intake = Intake(source=Source.SEGMENT, received=1)
    parser = SegmentParser(
        intake,
        now_ms,
        module_property,
        sent_at=payload.get("sentAt"),
        check_nul=NUL_ESCAPE in body,
    )
    parser.add(0, payload, kind)
    return intake
