"""The plays pages, at ``/plays/``."""

from django.urls import path

from tend.plays import views

app_name = "plays"

urlpatterns = [
    path("", views.play_list, name="list"),
    path("new/", views.play_new, name="new"),
    path("preview/", views.step_preview, name="preview"),
    path("<int:play_id>/", views.play_detail, name="detail"),
    path("<int:play_id>/edit/", views.play_edit, name="edit"),
    path("<int:play_id>/status/", views.play_status, name="status"),
    path("<int:play_id>/dry-run/", views.play_dry_run, name="dry_run"),
    path("<int:play_id>/run/", views.play_run_now, name="run_now"),
]
