from django.urls import path

from tend.accounts.views import accounts as views
from tend.accounts.views import condition_builder
from tend.accounts.views.accounts import condition_filter, timeline
from tend.accounts.views.accounts.export import account_export

app_name = "accounts"

urlpatterns = [
    path("", views.account_list, name="list"),
    path("new/", views.account_create, name="new"),
    path("export/", account_export, name="export"),
    path("conditions/builder/", condition_builder.builder_redraw, name="condition_builder"),
    path("conditions/count/", condition_builder.builder_count, name="condition_count"),
    path("condition/", condition_filter.condition_panel, name="condition_panel"),
    path("condition/apply/", condition_filter.condition_apply, name="condition_apply"),
    path("<int:account_id>/", views.account_profile, name="profile"),
    path("<int:account_id>/timeline/", timeline.timeline_fragment, name="timeline"),
    path("<int:account_id>/edit/", views.account_edit, name="edit"),
    path("<int:account_id>/delete/", views.account_delete, name="delete"),
    path(
        "<int:account_id>/attributes/<int:attribute_id>/", views.attribute_value, name="attribute"
    ),
    path(
        "<int:account_id>/attributes/<int:attribute_id>/edit/",
        views.attribute_edit,
        name="attribute_edit",
    ),
]
