"""URL assembly: the web shell, each app's pages, and the one API."""

from django.urls import include, path, re_path

from tend.api import api
from tend.work import totango as totango_touchpoints

urlpatterns = [
    path("api/v1/", api.urls),
    # Totango's touchpoint create, update and read, at Totango's paths (docs/api.md).
    re_path(
        r"^api/v3/touchpoints/?$", totango_touchpoints.create_touchpoint, name="totango_touchpoint"
    ),
    # With and without the trailing slash, as Totango's clients write it.
    path(
        "api/v3/touchpoints/<str:note_id>",
        totango_touchpoints.update_touchpoint,
        name="totango_touchpoint_update",
    ),
    path("api/v3/touchpoints/<str:note_id>/", totango_touchpoints.update_touchpoint),
    re_path(r"^api/v2/events/?$", totango_touchpoints.list_events, name="totango_events"),
    path("", include("tend.web.urls")),
    path("", include("tend.workspaces.urls")),
    path("settings/outbox/", include("tend.outbox.urls")),
    path("settings/webhooks/", include("tend.webhooks.urls")),
    path("accounts/", include("tend.accounts.urls")),
    path("data-model/", include("tend.accounts.data_model_urls")),
    path("ingest/", include("tend.usage.ingest.urls")),
    path("data/imports/", include("tend.hub.urls")),
    path("data/exports/", include("tend.hub.export_urls")),
    path("health/", include("tend.health.urls")),
    path("segments/", include("tend.segments.urls")),
    path("views/", include("tend.segments.view_urls")),
    path("scorecards/", include("tend.segments.scorecard_urls")),
    path("tasks/", include("tend.work.urls")),
    path("touchpoints/", include("tend.work.touchpoint_urls")),
    path("projects/", include("tend.work.project_urls")),
    path("plays/", include("tend.plays.urls")),
    path("notifications/", include("tend.notifications.urls")),
    path("", include("tend.alerts.urls")),
    path("digest/", include("tend.digest.urls")),
    path("", include("tend.usage.urls")),
]
