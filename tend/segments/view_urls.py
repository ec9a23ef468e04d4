"""The saved view pages, at ``/views/``."""

from django.urls import path

from tend.segments.views import saved_views

app_name = "views"

urlpatterns = [
    path("", saved_views.view_list, name="list"),
    path("new/", saved_views.view_new, name="new"),
    path("<int:view_id>/", saved_views.view_detail, name="detail"),
    path("<int:view_id>/edit/", saved_views.view_edit, name="edit"),
    path("<int:view_id>/delete/", saved_views.view_delete, name="delete"),
    path("<int:view_id>/columns/", saved_views.view_columns, name="columns"),
    path("<int:view_id>/sort/", saved_views.view_sort, name="sort"),
    path("<int:view_id>/export/", saved_views.view_export, name="export"),
]
