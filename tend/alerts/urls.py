from django.urls import path

from tend.alerts import views

app_name = "alerts"

urlpatterns = [
    path("following/", views.following, name="following"),
    path("following/accounts/<int:account_id>/", views.follow_account, name="follow_account"),
    path("following/segments/<int:segment_id>/", views.follow_segment, name="follow_segment"),
    path("alerts/", views.rule_list, name="list"),
    path("alerts/new/", views.rule_new, name="new"),
    path("alerts/<int:rule_id>/", views.rule_detail, name="detail"),
    path("alerts/<int:rule_id>/edit/", views.rule_edit, name="edit"),
    path("alerts/<int:rule_id>/delete/", views.rule_delete, name="delete"),
]
