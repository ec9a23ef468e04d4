"""The plays pages, at ``/plays/``."""

from django.urls import path

from tend.plays import views

app_name = "plays"

urlpatterns = [
    path("", views.play_list, name="list"),
    path("<int:play_id>/", views.play_detail, name="detail"),
]
