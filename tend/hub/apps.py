from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "tend.hub"
    label = "hub"
    verbose_name = "Data hub: imports"

    def ready(self):
        from tend.hub import usage_objects  # noqa: F401  (registers usage days and metric values)
