from django.apps import AppConfig


class WorkConfig(AppConfig):
    name = "tend.work"
    label = "work"
    verbose_name = "Work: tasks"

    def ready(self):
        # The account profile shows the account's open tasks; accounts sits below work, so
        # the panel is registered through the extension point accounts offers.
        from tend.work import extensions

        extensions.register()
