"""The usage pages: the account profile's usage panel and activity stream, and Data →
Ingestion."""


app_name = "usage"

urlpatterns: list = []
