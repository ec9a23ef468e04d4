from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "tend.usage"
    label = "usage"
    verbose_name = "Product usage"

    def ready(self):
        # The accounts list and profile show usage through the extension points accounts
        # offers, since accounts sits below usage and may not import it.
        from tend.usage import extensions

        extensions.register()
        # End-user conditions and searches can test usage.<metric> of the user's own row.
        from tend.usage import user_conditions

        user_conditions.register()
        # Notable usage (a user's first activity, a module's first use) on the timeline.
        from tend.usage import timeline

        timeline.register()
        # Full-table exports (Data → Exports) of this app's tables.
        from tend.usage import datasets

        datasets.register()
