"""The scorecard pages, at ``/scorecards/``."""

from django.urls import path

from tend.segments.views import scorecards

app_name = "scorecards"

urlpatterns = [
    path("", scorecards.scorecard_list, name="list"),
    path("new/", scorecards.scorecard_new, name="new"),
    path("<int:scorecard_id>/", scorecards.scorecard_detail, name="detail"),
    path("<int:scorecard_id>/edit/", scorecards.scorecard_edit, name="edit"),
    path("<int:scorecard_id>/delete/", scorecards.scorecard_delete, name="delete"),
    path("<int:scorecard_id>/cards/new/", scorecards.card_new, name="card_new"),
    path("<int:scorecard_id>/cards/<int:card_id>/edit/", scorecards.card_edit, name="card_edit"),
    path("<int:scorecard_id>/cards/<int:card_id>/move/", scorecards.card_move, name="card_move"),
    path(
        "<int:scorecard_id>/cards/<int:card_id>/delete/",
        scorecards.card_delete,
        name="card_delete",
    ),
]
