"""Post to Slack through an incoming webhook: a message template over the account's plain
data, sent with ``tend.lib.outgoing.post_to_slack`` (hard deadline, Slack's error codes
explained). Values are escaped for Slack before rendering, so an account named
``<!channel>`` pings no one.

The URL must be a Slack incoming-webhook URL (``https://hooks.slack.com/services/…``), or
one whose host the install's ``TEND_OUTGOING_ALLOW`` names (a self-hosted chat with
Slack-compatible incoming webhooks, such as Mattermost). Like ``call_webhook`` the message
is stored on the first attempt and a delivered one is never posted again.
"""

import json

from pydantic import Field

from tend.lib.errors import InvalidInput
from tend.lib.outgoing import (
    allow_list_from_settings,
    check_slack_url,
    check_url,
    escape_text,
    post_to_slack,
)
from tend.lib.outgoing.slack import slack_message
from tend.lib.outgoing.targets import Refused, parse_url
from tend.outbox.rendering import TemplateError
from tend.plays.steps import register
from tend.plays.steps.base import StepConfig, StepKind
from tend.plays.steps.messaging import (
    check_templates,
    deliver_once,
    render,
    template_context,
    template_failure,
)


class PostSlackConfig(StepConfig):
    url: str = Field(..., min_length=1, max_length=2048, description="The incoming-webhook URL.")
    text: str = Field(
        ..., min_length=1, max_length=10_000, description="Message template (Slack mrkdwn)."
    )


def _escaped(value):
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return value


def _self_hosted(url: str) -> bool:
    """Whether the install's allow-list names the URL's host (by name or address)."""
    try:
        target = parse_url(url)
    except Refused:
        return False
    allow = allow_list_from_settings()
    if target.ip is not None:
        return allow.allows_address(target.ip)
    return allow.allows_host(target.host)


def message_text(config, ctx) -> str:
    text = render(config.text, _escaped(template_context(ctx)), "text").strip()
    if not text:
        raise TemplateError("text", "renders empty; Slack needs some text")
    return text


@register
class PostSlack(StepKind):
    kind = "post_slack"
    label = "Post to Slack"
    Config = PostSlackConfig
    changes_account = False

    def check(self, config, workspace) -> None:
        refusal = check_slack_url(config.url)
        if refusal and not _self_hosted(config.url):
            raise InvalidInput("url", refusal)
        refusal = check_url(config.url)
        if refusal:
            raise InvalidInput("url", refusal)
        check_templates(text=config.text)

    def describe(self, config, ctx) -> dict:
        try:
            text = message_text(config, ctx)
        except TemplateError as exc:
            return {"summary": f"Would fail: {template_failure(exc).reason}"}
        return {"summary": f"Post to Slack: {text[:200]}", "url": config.url, "text": text}

    def run(self, ctx):
        try:
            text = message_text(ctx.config, ctx)
        except TemplateError as exc:
            return template_failure(exc)

        def post(url, body, _message_id):
            # The stored bytes are the message as first rendered; post that text again.
            return post_to_slack(url, json.loads(body)["text"])

        return deliver_once(
            ctx, url=ctx.config.url, make_body=lambda: slack_message(text), send=post, what="Slack"
        )
