"""URL assembly: the web shell, each app's pages, and the one API."""

from django.urls import include, path

from tend.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("tend.web.urls")),
    path("", include("tend.workspaces.urls")),
    path("settings/outbox/", include("tend.outbox.urls")),
    path("accounts/", include("tend.accounts.urls")),
    path("data-model/", include("tend.accounts.data_model_urls")),
    path("ingest/", include("tend.usage.ingest.urls")),
    path("data/imports/", include("tend.hub.urls")),
    path("health/", include("tend.health.urls")),
    path("segments/", include("tend.segments.urls")),
    path("views/", include("tend.segments.view_urls")),
    path("scorecards/", include("tend.segments.scorecard_urls")),
    path("tasks/", include("tend.work.urls")),
    path("plays/", include("tend.plays.urls")),
    path("", include("tend.usage.urls")),
]
