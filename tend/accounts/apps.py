from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tend.accounts"
    label = "accounts"
    verbose_name = "Customer accounts and people"

    def ready(self):
        # A new workspace gets the usual stages and roles: workspaces announces it with a
        # signal because it sits below accounts and may not import it.
        from tend.accounts.actions.definitions import set_up_workspace
        from tend.workspaces.actions import workspace_created

        workspace_created.connect(set_up_workspace, dispatch_uid="accounts.set_up_workspace")
        # The column cache's stamps have no foreign key: they go with their workspace.
        from django.db.models.signals import post_delete

        from tend.accounts.stamps import forget_workspace
        from tend.workspaces.models import Workspace

        post_delete.connect(forget_workspace, sender=Workspace, dispatch_uid="accounts.stamps")
        # The list's attribute filter plugs in like the filters of upper apps do.
        from tend.accounts import attribute_filter

        attribute_filter.register()
        # Full-table exports (Data → Exports) of accounts and end users.
        from tend.accounts import datasets

        datasets.register()
        # The timeline: accounts' own sources, and the panel showing every app's.
        from tend.accounts import timeline_sources
        from tend.accounts.views.accounts import timeline as timeline_views

        timeline_sources.register()
        timeline_views.register()
