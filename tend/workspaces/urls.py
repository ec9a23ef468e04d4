from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from tend.workspaces import views

app_name = "workspaces"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            template_name="workspaces/password_change.html",
            success_url=reverse_lazy("workspaces:password_change_done"),
        ),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="workspaces/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("settings/", views.settings_index, name="settings"),
    path("settings/members/", views.members, name="members"),
    path("settings/members/<int:member_id>/seat/", views.member_seat, name="member_seat"),
    path(
        "settings/members/<int:member_id>/deactivate/",
        views.member_deactivate,
        name="member_deactivate",
    ),
    path(
        "settings/members/<int:member_id>/reactivate/",
        views.member_reactivate,
        name="member_reactivate",
    ),
    path("settings/teams/", views.teams, name="teams"),
    path("settings/teams/<int:team_id>/", views.team, name="team"),
    path("settings/teams/<int:team_id>/delete/", views.team_delete, name="team_delete"),
    path("settings/tokens/", views.tokens, name="tokens"),
    path("settings/tokens/<int:token_id>/created/", views.token_created, name="token_created"),
    path("settings/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
