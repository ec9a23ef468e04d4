"""The segments pages: segments, saved views and scorecards."""

app_name = "segments"

urlpatterns: list = []
