from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "tend.segments"
    label = "segments"
    verbose_name = "Segments and scorecards"

    def ready(self):
        # Conditions may test segment membership: accounts sits below segments and takes
        # the field through its provider extension point.
        from tend.segments import conditions

        conditions.register()
        # The condition builder names segments, and the accounts list saves its condition
        # as one, through the extension points accounts offers.
        from tend.segments import extensions

        extensions.register()
