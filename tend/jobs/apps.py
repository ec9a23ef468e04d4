from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "tend.jobs"
    label = "jobs"
    verbose_name = "Background jobs"
