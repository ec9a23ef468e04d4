"""The project pages, at ``/projects/``."""

from django.urls import path

from tend.work.views import project

app_name = "projects"

urlpatterns = [
    path("start/", project.project_start, name="start"),
    path("templates/", project.template_list, name="templates"),
    path("templates/new/", project.template_edit, name="template_new"),
    path("templates/<int:template_id>/", project.template_edit, name="template_edit"),
    path("templates/<int:template_id>/delete/", project.template_delete, name="template_delete"),
    path("<int:project_id>/", project.project_detail, name="detail"),
    path("<int:project_id>/rename/", project.project_rename, name="rename"),
    path("<int:project_id>/cancel/", project.project_cancel, name="cancel"),
    path("<int:project_id>/delete/", project.project_delete, name="delete"),
]
