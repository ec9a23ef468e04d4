"""The usage pages: the account profile's usage panel and activity stream, and Data →
Ingestion."""

from django.urls import path

from tend.usage.views import account_activity, account_usage, account_users, ingestion

app_name = "usage"

urlpatterns: list = [
    path("data/ingestion/", ingestion.ingestion, name="ingestion"),
    path("data/ingestion/keys/", ingestion.key_create, name="ingest_key_create"),
    path(
        "data/ingestion/keys/<int:token_id>/revoke/",
        ingestion.key_revoke,
        name="ingest_key_revoke",
    ),
    path("data/ingestion/settings/", ingestion.settings_update, name="usage_settings"),
    path("accounts/<int:account_id>/usage/", account_usage.usage_fragment, name="panel"),
    path("accounts/<int:account_id>/usage/users/", account_users.users_fragment, name="users"),
    path("accounts/<int:account_id>/usage/activity/", account_activity.activity, name="activity"),
]
