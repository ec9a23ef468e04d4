"""The segments pages, at ``/segments/``."""

from django.urls import path

from tend.segments.views import form, members, pages

app_name = "segments"

urlpatterns = [
    path("", pages.segment_list, name="list"),
    path("new/", form.segment_new, name="new"),
    # The builder's live count: for a new segment, and for one being edited (which its
    # condition may not name).
    path("conditions/count/", form.condition_count, name="condition_count"),
    path("<int:segment_id>/", pages.segment_detail, name="detail"),
    path("<int:segment_id>/edit/", form.segment_edit, name="edit"),
    path("<int:segment_id>/conditions/count/", form.condition_count, name="condition_count"),
    path("<int:segment_id>/history/", pages.segment_history, name="history"),
    path("<int:segment_id>/export/", pages.segment_export, name="export"),
    path("<int:segment_id>/delete/", pages.segment_delete, name="delete"),
    path("<int:segment_id>/accounts/find/", members.find_accounts, name="find_accounts"),
    path("<int:segment_id>/accounts/add/", members.add_member, name="add_member"),
    path("<int:segment_id>/accounts/remove/", members.remove_member, name="remove_member"),
]
