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
        auth_views.PasswordChangeDoneView.as_view(template_name="workspaces/password_change_done.html"),
        name="password_change_done",
    ),
    path("settings/", views.settings_index, name="settings"),
]
