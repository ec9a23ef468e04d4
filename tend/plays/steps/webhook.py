"""Call a webhook: POST a JSON document describing the account and the play run to a URL,
signed with Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``) under the step's secret, through ``tend.lib.outgoing.send`` and its
hard deadline. The URL is checked when the play is saved (no loopback, private or metadata
addresses unless the install's ``TEND_OUTGOING_ALLOW`` names them).

The ``webhook-id`` comes from the step run's key, and the body is stored on the first
attempt (``StepDelivery``), so retries send the same bytes under the same id and a
receiver drops any duplicate; a delivered step is never sent again.
"""

import orjson
from django.utils import timezone
from pydantic import Field, field_validator

from tend.lib.errors import InvalidInput
from tend.lib.outgoing import check_url, generate_secret, send, signature_headers
from tend.lib.outgoing.signing import secret_key
from tend.plays.steps import register
from tend.plays.steps.base import Fail, StepConfig, StepKind
from tend.plays.steps.messaging import account_data, deliver_once, play_data

EVENT_TYPE = "play.step"


class CallWebhookConfig(StepConfig):
    url: str = Field(..., min_length=1, max_length=2048, description="Where to POST (https://…).")
    secret: str | None = Field(
        None,
        max_length=200,
        description="Standard Webhooks secret (whsec_…) the receiver verifies; generated when absent.",
    )

    @field_validator("secret")
    @classmethod
    def _secret(cls, value):
        if value is not None:
            secret_key(value)  # ValueError with the reason
        return value


def payload(ctx, now) -> dict:
    """What the receiver gets: the event type, when, and the account and play run."""
    return {
        "type": EVENT_TYPE,
        "timestamp": now.isoformat(),
        "data": {
            "account": account_data(ctx.account, ctx.now, getattr(ctx, "catalog", None)),
            **play_data(getattr(ctx, "play", None), getattr(ctx, "run", None)),
            "step": {"position": getattr(ctx, "position", None)},
            "workspace": {"id": ctx.workspace.pk, "name": ctx.workspace.name},
        },
    }


@register
class CallWebhook(StepKind):
    kind = "call_webhook"
    label = "Call a webhook"
    Config = CallWebhookConfig
    secret_fields = ("secret",)
    changes_account = False

    def check(self, config, workspace) -> None:
        refusal = check_url(config.url)
        if refusal:
            raise InvalidInput("url", refusal)
        if config.secret is None:
            # Stored with the step (clean_step dumps this config), shown to whoever edits it.
            config.secret = generate_secret()

    def describe(self, config, ctx) -> dict:
        document = payload(ctx, ctx.now)
        return {
            "summary": f"POST a signed {EVENT_TYPE} event about {ctx.account.name!r} to {config.url}.",
            "url": config.url,
            "payload": document,
        }

    def run(self, ctx):
        secret = ctx.config.secret
        if secret is None:
            return Fail("the step has no secret; save the play again to generate one")

        def post(url, data, message_id):
            headers = {
                "Content-Type": "application/json",
                **signature_headers(secret, message_id, data),
            }
            return send("POST", url, body=data, headers=headers)

        return deliver_once(
            ctx,
            url=ctx.config.url,
            make_body=lambda: orjson.dumps(payload(ctx, timezone.now())),
            send=post,
            what="webhook",
        )
