from django.urls import include, path

from tend.hub import views

app_name = "hub"

urlpatterns = [
    path("", views.import_list, name="list"),
    path("new/", views.import_new, name="new"),
    path("sources/", views.owners, name="owners"),
    path("sftp/", include("tend.hub.sftp.urls")),
    path("<int:import_id>/", views.import_detail, name="detail"),
    path("<int:import_id>/progress/", views.import_progress, name="progress"),
    path("<int:import_id>/mapping/", views.import_mapping, name="mapping"),
    path("<int:import_id>/start/", views.import_start, name="start"),
    path("<int:import_id>/rejected.csv", views.import_errors, name="errors"),
]
