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

        # The accounts list saves its condition as a saved view too.
        from tend.segments import view_links

        view_links.register()
        # The account timeline shows this app's rows through the source accounts offers.
        from tend.segments import timeline

        timeline.register()

        # A new workspace starts with the Customer Intelligence scorecard; workspaces sits
        # below segments, so it announces the workspace by signal (docs/decisions.md).
        from tend.segments.actions.scorecards import set_up_workspace
        from tend.workspaces.actions import workspace_created

        workspace_created.connect(set_up_workspace, dispatch_uid="segments.set_up_workspace")
