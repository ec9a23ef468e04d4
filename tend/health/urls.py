"""The health pages: the dashboard (and, beside it, profiles and the back-test)."""

from django.urls import path

from tend.health.views import dashboard

app_name = "health"

urlpatterns: list = [
    path("", dashboard.dashboard, name="dashboard"),
]
