from django.urls import path

from tend.hub import export_views
from tend.hub.export_schedules import views as scheduled

app_name = "hub_exports"

urlpatterns = [
    path("", export_views.export_list, name="list"),
    path("scheduled/", scheduled.schedule_list, name="scheduled_list"),
    path("scheduled/new/", scheduled.schedule_new, name="scheduled_new"),
    path("scheduled/<int:schedule_id>/", scheduled.schedule_detail, name="scheduled_detail"),
    path("scheduled/<int:schedule_id>/edit/", scheduled.schedule_edit, name="scheduled_edit"),
    path("scheduled/<int:schedule_id>/test/", scheduled.schedule_test, name="scheduled_test"),
    path("scheduled/<int:schedule_id>/run/", scheduled.schedule_run, name="scheduled_run"),
    path("scheduled/<int:schedule_id>/delete/", scheduled.schedule_delete, name="scheduled_delete"),
    path("<slug:key>/", export_views.export_download, name="download"),
]
