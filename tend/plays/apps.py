from django.apps import AppConfig


class PlaysConfig(AppConfig):
    name = "tend.plays"
    label = "plays"
    verbose_name = "Plays"
