from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "tend.web"
    label = "web"
    verbose_name = "Web shell"
