"""How tasks show up on the account profile (accounts may not import work): a Tasks panel
with the account's open tasks, registered through the profile-panel extension point."""

from tend.accounts.extensions import ProfilePanel, add_profile_panel


def register() -> None:
    # Imported here: the panel's view reads models, which need the apps loaded.
    from tend.work.views.panel import tasks_panel

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
