from django.apps import AppConfig


class PlaysConfig(AppConfig):
    name = "tend.plays"
    label = "plays"
    verbose_name = "Plays"

    def ready(self):
        # Lower apps announce committed change rows; plays polls its triggers at once.
        from tend.lib.changes import listen
        from tend.plays.signals import changes_committed

        listen("plays.poll", changes_committed)
        # The account timeline shows this app's rows through the source accounts offers.
        from tend.plays import timeline

        timeline.register()
