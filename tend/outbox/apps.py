from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "tend.outbox"
    label = "outbox"
    verbose_name = "Email outbox"

    def ready(self):
        # A mistyped EMAIL_URL stops `tend serve` / `manage check` with the reason, rather
        # than failing every delivery later.
        from tend.outbox import checks  # noqa: F401
