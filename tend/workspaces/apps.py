from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "tend.workspaces"
    label = "workspaces"
    verbose_name = "Workspaces and members"
