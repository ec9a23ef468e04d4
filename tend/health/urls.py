"""The health pages: the dashboard (and, beside it, profiles and the back-test)."""

from django.urls import path

from tend.health.views import account, backtest, dashboard, editor, profiles

app_name = "health"

urlpatterns: list = [
    path("", dashboard.dashboard, name="dashboard"),
    # The account profile's health panel: the explanation of another day (htmx).
    path(
        "accounts/<int:account_id>/explanation/",
        account.account_explanation,
        name="account_explanation",
    ),
    # Health settings: profiles, the editor with its live preview, versions.
    path("profiles/", profiles.profile_list, name="profiles"),
    path("profiles/new/", profiles.profile_new, name="profile_new"),
    path("profiles/<int:profile_id>/", editor.profile_editor, name="profile"),
    path("profiles/<int:profile_id>/preview/", editor.profile_preview, name="profile_preview"),
    path("profiles/<int:profile_id>/move/", profiles.profile_move, name="profile_move"),
    path(
        "profiles/<int:profile_id>/default/",
        profiles.profile_make_default,
        name="profile_default",
    ),
    path("profiles/<int:profile_id>/delete/", profiles.profile_delete, name="profile_delete"),
    path(
        "profiles/<int:profile_id>/backtest/", backtest.profile_backtest, name="profile_backtest"
    ),
    path("profiles/<int:profile_id>/versions/", profiles.profile_versions, name="profile_versions"),
    path(
        "profiles/<int:profile_id>/versions/compare/",
        profiles.profile_compare,
        name="profile_compare",
    ),
    path(
        "profiles/<int:profile_id>/versions/<int:number>/rollback/",
        profiles.profile_rollback,
        name="profile_rollback",
    ),
]
