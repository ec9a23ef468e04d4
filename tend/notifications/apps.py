from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "tend.notifications"
    label = "notifications"
    verbose_name = "Notifications"
