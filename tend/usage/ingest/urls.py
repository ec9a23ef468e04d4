"""The wire-format ingestion endpoints, mounted at ``/ingest/`` (outside the REST API: each
speaks its vendor's protocol, status codes and error shapes)."""

from django.urls import path

from tend.usage.ingest import views
from tend.usage.ingest.segment import TYPES

app_name = "ingest"

urlpatterns: list = [
    # A Segment client whose host is http://HOST/ingest/segment posts to {host}/v1/batch.
    path("segment/v1/batch", views.segment_batch, name="segment-batch"),
    *(
        path(f"segment/v1/{kind}", views.segment_message, {"kind": kind}, name=f"segment-{kind}")
        for kind in TYPES
    ),
    # Totango's clients post to pixel.gif/ (with the slash); its docs say pixel.gif.
    path("totango/pixel.gif", views.totango_pixel, name="totango-pixel"),
    path("totango/pixel.gif/", views.totango_pixel),
    path(
        "planhat/analytics/bulk/<str:key>", views.planhat_analytics, name="planhat-analytics-bulk"
    ),
    path("planhat/analytics/<str:key>", views.planhat_analytics, name="planhat-analytics"),
    path(
        "planhat/dimensiondata/<str:key>",
        views.planhat_dimension_data,
        name="planhat-dimensiondata",
    ),
]
