"""Log a touchpoint on the account (tend.work): a type, subject and Markdown body templates
over the account's plain data, and a sentiment — e.g. "Welcome email sent" on the timeline
after an onboarding play's email step.

The touchpoint's key is the step run's key, so a re-run hands back the touchpoint it
already logged (``log_account_touchpoint`` returns the first one for a key).
"""

from pydantic import Field

from tend.lib.errors import InvalidInput
from tend.outbox.rendering import TemplateError
from tend.plays.steps import register
from tend.plays.steps.base import Done, Fail, StepConfig, StepKind
from tend.plays.steps.messaging import check_templates, render, template_context, template_failure
from tend.work.actions import SUBJECT_MAX, log_account_touchpoint, touchpoint_types
from tend.work.models import Sentiment, Touchpoint, TouchpointKind


class LogTouchpointConfig(StepConfig):
    type: str = Field(
        TouchpointKind.NOTE,
        max_length=40,
        description="note, meeting, call, email, qbr, escalation or a workspace's own type.",
    )
    subject: str = Field(..., min_length=1, max_length=500, description="Subject template.")
    body: str = Field("", max_length=20_000, description="Markdown body template.")
    sentiment: Sentiment = Field(Sentiment.NEUTRAL, description="positive, neutral or negative.")


def _rendered(config: LogTouchpointConfig, ctx) -> tuple[str, str]:
    context = template_context(ctx)
    subject = " ".join(render(config.subject, context, "subject").split())
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    if not subject:
        raise TemplateError("subject", "renders empty")
    return subject, render(config.body, context, "body").strip()


@register
class LogTouchpoint(StepKind):
    kind = "log_touchpoint"
    label = "Log a touchpoint"
    Config = LogTouchpointConfig

    def check(self, config, workspace) -> None:
        known = dict(touchpoint_types(workspace))
        if config.type not in known:
            raise InvalidInput("type", f"must be one of {', '.join(known)}")
        check_templates(subject=config.subject, body=config.body)

    def describe(self, config, ctx) -> dict:
        try:
            subject, body = _rendered(config, ctx)
        except TemplateError as exc:
            return {"summary": f"Would fail: {template_failure(exc).reason}"}
        return {
            "summary": f"Log a {config.type} touchpoint {subject!r}.",
            "subject": subject,
            "body": body,
            "type": config.type,
            "sentiment": config.sentiment,
        }

    def run(self, ctx):
        config = ctx.config
        existing = Touchpoint.objects.filter(workspace=ctx.workspace, key=ctx.key).first()
        if existing is not None:
            return Done(
                f"Touchpoint {existing.subject!r} was already logged (touchpoint {existing.pk}).",
                {"touchpoint_id": existing.pk, "created": False},
            )
        try:
            subject, body = _rendered(config, ctx)
        except TemplateError as exc:
            return template_failure(exc)
        try:
            touchpoint, created = log_account_touchpoint(
                ctx.account,
                subject=subject,
                body=body,
                type=config.type,
                sentiment=config.sentiment,
                play_id=ctx.play.pk,
                source=f"Play: {ctx.play.name}"[:200],
                key=ctx.key,
            )
        except InvalidInput as exc:
            return Fail(f"the touchpoint could not be logged: {exc}")
        return Done(
            f"Logged touchpoint {touchpoint.subject!r}.",
            {"touchpoint_id": touchpoint.pk, "created": created},
        )
