"""The touchpoint pages, at ``/touchpoints/``."""

from django.urls import path

from tend.work.views import touchpoint

app_name = "touchpoints"

urlpatterns = [
    path("new/", touchpoint.touchpoint_new, name="new"),
    path("types/", touchpoint.touchpoint_types_page, name="types"),
    path("<int:touchpoint_id>/", touchpoint.touchpoint_detail, name="detail"),
    path("<int:touchpoint_id>/edit/", touchpoint.touchpoint_edit, name="edit"),
    path("<int:touchpoint_id>/delete/", touchpoint.touchpoint_delete, name="delete"),
    path(
        "<int:touchpoint_id>/attachments/<int:attachment_id>/",
        touchpoint.touchpoint_attachment,
        name="attachment",
    ),
    path(
        "<int:touchpoint_id>/attachments/<int:attachment_id>/delete/",
        touchpoint.touchpoint_attachment_delete,
        name="attachment_delete",
    ),
]
