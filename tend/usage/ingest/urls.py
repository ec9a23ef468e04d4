"""The wire-format ingestion endpoints, mounted at ``/ingest/`` (outside the REST API: each
speaks its vendor's protocol, status codes and error shapes)."""


app_name = "ingest"

urlpatterns: list = []
