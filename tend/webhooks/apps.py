from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "tend.webhooks"
    label = "webhooks"
    verbose_name = "Outgoing webhooks"

    def ready(self):
        from tend.events.actions import add_consumer
        from tend.webhooks import actions

        add_consumer("webhooks", interest=actions.subscribed_types, consume=actions.fan_out)
