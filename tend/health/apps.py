from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "tend.health"
    label = "health"
    verbose_name = "Customer health"

    def ready(self):
        # A new workspace gets the classic profile: workspaces sits below health and
        # announces new workspaces with a signal.
        from tend.health.actions.profiles import set_up_workspace
        from tend.workspaces.actions import workspace_created

        workspace_created.connect(set_up_workspace, dispatch_uid="health.set_up_workspace")
        # The accounts list and profile show health through the extension points accounts
        # offers, since accounts sits below health and may not import it.
        from tend.health import extensions

        extensions.register()
        # Conditions (segments, plays, search) test health through the field providers the
        # accounts catalog takes: health.rank, health.score, health.<dimension> …
        from tend.health import conditions

        conditions.register()
        # The account timeline shows this app's rows through the source accounts offers.
        from tend.health import timeline

        timeline.register()
        # Full-table exports (Data → Exports) of this app's tables.
        from tend.health import datasets

        datasets.register()
