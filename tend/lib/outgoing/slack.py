"""Posting to Slack through an incoming-webhook URL.

Slack answers ``200 ok`` when the message is posted, and a short error code in the body
otherwise: ``400 invalid_payload``, ``403 invalid_token`` or ``action_prohibited``,
``404 channel_not_found`` or ``no_service`` (the webhook was removed), ``410
channel_is_archived``, ``429`` when rate limited, ``5xx`` when Slack is in trouble. The
first kinds will not fix themselves (permanent; 410 means gone), the last two are retried.
Those are the general rules of ``send``; this module adds the message body, the URL check
a form should run, and a reason that quotes Slack's code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace

from tend.lib.outgoing.results import Outcome, Result, status_phrase
from tend.lib.outgoing.targets import Refused, parse_url
from tend.lib.outgoing.transport import DEFAULT_DEADLINE_SECONDS, send

SLACK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
SLACK_PATHS = ("/services/", "/workflows/", "/triggers/")
MAX_TEXT_CHARS = 40_000  # Slack cuts longer text itself; we cut first and say so
MAX_BLOCKS = 50
_ERROR_CODE = re.compile(r"[a-z0-9_]{1,64}")

_SLACK_ERRORS = {
    "invalid_payload": "Slack could not read the message",
    "invalid_token": "the webhook URL's token is no longer valid",
    "action_prohibited": "a Slack admin has restricted posting to this channel",
    "posting_to_general_channel_denied": "only admins may post to this channel",
    "channel_not_found": "the channel no longer exists",
    "channel_is_archived": "the channel is archived",
    "no_service": "the incoming webhook was removed or disabled in Slack",
    "no_service_id": "the webhook URL is incomplete",
    "no_team": "the Slack workspace no longer exists",
    "team_disabled": "the Slack workspace is disabled",
    "user_not_found": "the user the webhook posts for no longer exists",
}


def escape_text(value: str) -> str:
    """Escape ``&``, ``<`` and ``>`` in a value put into message text.

    Slack reads ``<!channel>`` or ``<https://…|label>`` as markup; an account name holding
    them must not ping a channel or disguise a link.
    """
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(text: str, blocks: Sequence[dict] | None = None) -> bytes:
    """The JSON body of an incoming-webhook post.

    ``text`` is always sent: it is the notification and the fallback when there are
    blocks. Over 40,000 characters it is cut, ending with a note that it was.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a Slack message needs text")
    if len(text) > MAX_TEXT_CHARS:
        marker = "… (cut: the message was longer than Slack allows)"
        text = text[: MAX_TEXT_CHARS - len(marker)] + marker
    payload: dict = {"text": text}
    if blocks is not None:
        blocks = list(blocks)
        if len(blocks) > MAX_BLOCKS:
            raise ValueError(f"Slack accepts at most {MAX_BLOCKS} blocks in a message")
        if not all(isinstance(block, dict) and "type" in block for block in blocks):
            raise ValueError("each Slack block is an object with a type")
        payload["blocks"] = blocks
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def check_slack_url(url: str) -> str | None:
    """Why ``url`` is not a Slack incoming-webhook URL, or None when it is one."""
    try:
        target = parse_url(url)
    except Refused as refusal:
        return refusal.reason
    if target.scheme != "https" or target.host not in SLACK_HOSTS:
        return "a Slack incoming-webhook URL starts with https://hooks.slack.com/"
    if not target.request_target.startswith(SLACK_PATHS):
        return "a Slack incoming-webhook URL looks like https://hooks.slack.com/services/…"
    return None


def post_to_slack(
    url: str,
    text: str,
    blocks: Sequence[dict] | None = None,
    *,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    **send_options,
) -> Result:
    """Post one message; the result's reason quotes Slack's error code when it refused."""
    result = send(
        "POST",
        url,
        body=slack_message(text, blocks),
        headers={"Content-Type": "application/json; charset=utf-8"},
        deadline_seconds=deadline_seconds,
        **send_options,
    )
    if result.status_code is None or result.outcome is Outcome.DELIVERED:
        return result
    code = result.response_text.strip()
    # Slack's errors are short codes; an HTML error page from a proxy is not quoted.
    if not _ERROR_CODE.fullmatch(code) or 300 <= result.status_code <= 399:
        return result
    explained = _SLACK_ERRORS.get(code)
    reason = f"Slack answered {status_phrase(result.status_code)}: {code}"
    if explained:
        reason += f" ({explained})"
    if result.outcome is Outcome.RETRY and result.retry_after is not None:
        reason += f"; retry after {result.retry_after:g} s"
    return replace(result, reason=reason)
