from django.urls import path

from tend.hub import export_views

app_name = "hub_exports"

urlpatterns = [
    path("", export_views.export_list, name="list"),
    path("<slug:key>/", export_views.export_download, name="download"),
]
