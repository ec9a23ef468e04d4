from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "tend.alerts"
    label = "alerts"
    verbose_name = "Follows and alerts"

    def ready(self):
        # The follow button on the account profile and the segment page (both apps sit
        # below alerts), and a poll as soon as a lower app commits change rows.
        from tend.alerts import extensions
        from tend.alerts.signals import changes_committed
        from tend.lib.changes import listen

        extensions.register()
        listen("alerts.poll", changes_committed)
