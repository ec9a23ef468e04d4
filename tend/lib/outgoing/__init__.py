"""Outgoing HTTP for webhooks, Slack and integrations (docs/outgoing-http.md).

Pure helpers, no models: ``send`` makes one request under a hard total deadline, refusing
private and internal targets before connecting and never following redirects; ``signing``
is Standard Webhooks 1.0; ``backoff`` says when to try again; ``slack`` builds and posts
incoming-webhook messages. Callers keep their own delivery rows (see the doc).
"""

from tend.lib.outgoing.backoff import MAX_ATTEMPTS, RETRY_DELAYS, retry_delay, retry_window
from tend.lib.outgoing.results import Outcome, Result, parse_retry_after
from tend.lib.outgoing.signing import (
    InvalidSignature,
    generate_secret,
    new_message_id,
    sign,
    signature_headers,
    verify,
)
from tend.lib.outgoing.slack import check_slack_url, escape_text, post_to_slack, slack_message
from tend.lib.outgoing.targets import AllowList, Refused, allow_list_from_settings
from tend.lib.outgoing.transport import (
    DEFAULT_DEADLINE_SECONDS,
    DEFAULT_MAX_RESPONSE_BYTES,
    check_url,
    send,
)

__all__ = [
    "DEFAULT_DEADLINE_SECONDS",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "MAX_ATTEMPTS",
    "RETRY_DELAYS",
    "AllowList",
    "InvalidSignature",
    "Outcome",
    "Refused",
    "Result",
    "allow_list_from_settings",
    "check_slack_url",
    "check_url",
    "escape_text",
    "generate_secret",
    "new_message_id",
    "parse_retry_after",
    "post_to_slack",
    "retry_delay",
    "retry_window",
    "send",
    "sign",
    "signature_headers",
    "slack_message",
    "verify",
]
