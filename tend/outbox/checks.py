"""System check: EMAIL_URL must parse, so a typo is reported at start-up, not per message."""

from django.core import checks

from tend.outbox.email_url import InvalidEmailUrl, configured_transport


@checks.register(checks.Tags.compatibility)
def check_email_url(app_configs=None, **kwargs):
    try:
        configured_transport()
    except InvalidEmailUrl as exc:
        return [
            checks.Error(
                f"EMAIL_URL: {exc}",
                hint="See docs/outbox.md for the forms it takes.",
                id="outbox.E001",
            )
        ]
    return []
