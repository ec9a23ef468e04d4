from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class EventsConfig(AppConfig):
    name = "tend.events"
    label = "events"
    verbose_name = "Events"

    def ready(self):
        # Every app declares the events it emits in its own ``event_types.py``.
        autodiscover_modules("event_types")
