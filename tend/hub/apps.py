from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "tend.hub"
    label = "hub"
    verbose_name = "Data hub: imports"

    def ready(self):
        from tend.hub import registered  # noqa: F401  (usage days, metric values, assignments)
