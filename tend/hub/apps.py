from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "tend.hub"
    label = "hub"
    verbose_name = "Data hub: imports"
