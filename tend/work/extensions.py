"""How work shows up on the account profile (accounts may not import work): a Tasks panel
with the account's open tasks and a "Log a touchpoint" panel, registered through the
profile-panel extension point, and the touchpoints and tasks of the account timeline."""

from tend.accounts.extensions import ProfilePanel, add_profile_panel


def register() -> None:
    # Imported here: the panels' views read models, which need the apps loaded.
    from tend.work import timeline
    from tend.work.views.panel import tasks_panel
    from tend.work.views.project import projects_panel
    from tend.work.views.touchpoint import panel_context

    add_profile_panel(
        # The side column's top: what is to be done is seen without scrolling past health
        # and usage.
        ProfilePanel(
            key="tasks",
            template="work/panel.html",
            context=tasks_panel,
            column="side",
            position=0,
        )
    )
    add_profile_panel(
        # Just above the timeline it adds to.
        ProfilePanel(
            key="touchpoint",
            template="work/touchpoint_panel.html",
            context=panel_context,
            column="main",
            position=39,
        )
    )
    add_profile_panel(
        # Under the tasks they are made of.
        ProfilePanel(
            key="projects",
            template="work/project_panel.html",
            context=projects_panel,
            column="side",
            position=1,
        )
    )
    timeline.register()
