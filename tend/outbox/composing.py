"""Addresses, headers and the MIME bytes of a message.

Headers are decided once, when the message is queued (``Date`` and ``Message-ID``
included), and the bytes are built from the stored row on each attempt; so every attempt
sends the same message, and a receiver that sees it twice can tell by its Message-ID.
"""

import email.policy
import re
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses, parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from tend.lib.errors import InvalidInput

MAX_RECIPIENTS = 50
MAX_SUBJECT = 500
_LINE_BREAK = re.compile(r"[\r\n]+")


def clean_address(value: str, field: str) -> str:
    """``"Name <a@b.c>"`` or ``"a@b.c"``, checked, as one header-safe string."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "is empty; give an email address")
    if _LINE_BREAK.search(value):
        raise InvalidInput(field, "must not contain line breaks")
    name, address = parseaddr(value.strip())
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidInput(field, f"{value.strip()!r} is not an email address") from None
    return formataddr((name, address)) if name else address


def clean_addresses(values, field: str, *, required: bool) -> list[str]:
    if isinstance(values, str):
        values = [values]
    values = list(values or ())
    if required and not values:
        raise InvalidInput(field, "needs at least one recipient")
    if len(values) > MAX_RECIPIENTS:
        raise InvalidInput(field, f"has {len(values)} addresses; at most {MAX_RECIPIENTS}")
    return [
        clean_address(v, f"{field}.{i}" if len(values) > 1 else field) for i, v in enumerate(values)
    ]


def clean_subject(subject: str) -> str:
    """One line: a rendered template may carry line breaks, which a header cannot."""
    subject = _LINE_BREAK.sub(" ", subject or "").strip()
    if not subject:
        raise InvalidInput("subject", "is empty")
    if len(subject) > MAX_SUBJECT:
        raise InvalidInput("subject", f"has {len(subject)} characters; at most {MAX_SUBJECT}")
    return subject


def sender_for(workspace_name: str) -> str:
    """The workspace's name in front of DEFAULT_FROM_EMAIL's address."""
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((_LINE_BREAK.sub(" ", workspace_name), address or "tend@localhost"))


def new_message_id() -> str:
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    domain = address.rpartition("@")[2] or "localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


# Headers the outbox writes itself (or the MIME layer does): a caller cannot set them.
OWN_HEADERS = frozenset(
    name.lower()
    for name in (
        "From", "To", "Cc", "Bcc", "Reply-To", "Subject", "Date", "Message-ID", "Auto-Submitted",
        "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Sender", "Return-Path",
    )
)  # fmt: skip
MAX_EXTRA_HEADERS = 20
MAX_HEADER_VALUE = 900  # RFC 5322 lines stop at 998 characters; folding does the rest
_FIELD_NAME = re.compile(r"^[!-9;-~]{1,76}$")  # printable ASCII but the colon (RFC 5322 2.2)


def clean_extra_headers(value) -> list[list[str]]:
    """Extra headers a caller adds (``List-Unsubscribe`` …): a ``{name: value}`` mapping or
    ``[name, value]`` pairs, as ``[name, value]`` pairs. Refused, naming ``headers`` or
    ``headers.<name>``: a name that is not a header name, one of the outbox's own headers,
    a value with a line break (header injection) or too long, more than
    ``MAX_EXTRA_HEADERS``."""
    if value in (None, {}, []):
        return []
    pairs = list(value.items()) if isinstance(value, dict) else value
    if not isinstance(pairs, list | tuple):
        raise InvalidInput("headers", "must be an object of header names and values")
    if len(pairs) > MAX_EXTRA_HEADERS:
        raise InvalidInput("headers", f"at most {MAX_EXTRA_HEADERS} headers")
    out = []
    for pair in pairs:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise InvalidInput("headers", "each header is a name and a value")
        name, text = pair
        if not isinstance(name, str) or not _FIELD_NAME.match(name):
            raise InvalidInput("headers", f"{str(name)[:40]!r} is not a header name")
        field = f"headers.{name}"
        if name.lower() in OWN_HEADERS:
            raise InvalidInput(field, "is written by the outbox itself")
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput(field, "must be non-empty text")
        if _LINE_BREAK.search(text):
            raise InvalidInput(field, "must not contain line breaks")
        if len(text) > MAX_HEADER_VALUE:
            raise InvalidInput(field, f"must be at most {MAX_HEADER_VALUE} characters")
        out.append([name, text.strip()])
    return out


def build_headers(
    *, from_email, to, cc, reply_to, subject, message_id, when=None, extra=()
) -> list[list[str]]:
    """Every header of the message, in order; ``extra`` (cleaned by
    :func:`clean_extra_headers`) goes last."""
    headers = [
        ["From", from_email],
        ["To", ", ".join(to)],
    ]
    if cc:
        headers.append(["Cc", ", ".join(cc)])
    if reply_to:
        headers.append(["Reply-To", reply_to])
    headers += [
        ["Subject", subject],
        ["Date", format_datetime(when or timezone.now())],
        ["Message-ID", message_id],
        # RFC 3834: written by a program, so auto-responders should not answer it.
        ["Auto-Submitted", "auto-generated"],
    ]
    return headers + [list(pair) for pair in extra]


def mime_bytes(message) -> bytes:
    """The bytes sent for ``message`` (an outbox Message row): stored headers, text, HTML."""
    mime = EmailMessage(policy=email.policy.SMTP)
    for name, value in message.headers:
        mime[name] = value
    mime.set_content(message.text)
    if message.html:
        mime.add_alternative(message.html, subtype="html")
    return mime.as_bytes()


def envelope_sender(message) -> str:
    return parseaddr(message.from_email)[1]


def envelope_recipients(message) -> list[str]:
    return [address for _, address in getaddresses(message.recipients)]
