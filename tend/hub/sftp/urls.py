from django.urls import path

from tend.hub.sftp import views

app_name = "sftp"

urlpatterns = [
    path("", views.source_list, name="list"),
    path("new/", views.source_new, name="new"),
    path("<int:source_id>/", views.source_detail, name="detail"),
    path("<int:source_id>/edit/", views.source_edit, name="edit"),
    path("<int:source_id>/test/", views.source_test, name="test"),
    path("<int:source_id>/poll/", views.source_poll, name="poll"),
    path("<int:source_id>/delete/", views.source_delete, name="delete"),
]
