from django.urls import path

from tend.accounts.views import data_model as views

app_name = "data_model"

urlpatterns = [
    path("", views.index, name="index"),
    # One route per object type rather than a <slug> parameter, so every URL parameter is an
    # object id; reverse("data_model:attributes", kwargs={"object_type": …}) picks the route.
    path("attributes/user/", views.attributes, {"object_type": "user"}, name="attributes"),
    path("attributes/contact/", views.attributes, {"object_type": "contact"}, name="attributes"),
    path("attributes/<int:attribute_id>/edit/", views.attribute_edit, name="attribute_edit"),
    path("attributes/<int:attribute_id>/delete/", views.attribute_delete, name="attribute_delete"),
    path("stages/", views.stages, name="stages"),
    path("stages/<int:stage_id>/edit/", views.stage_edit, name="stage_edit"),
    path("stages/<int:stage_id>/move/", views.stage_move, name="stage_move"),
    path("stages/<int:stage_id>/delete/", views.stage_delete, name="stage_delete"),
    path("roles/", views.roles, name="roles"),
    path("roles/<int:role_id>/edit/", views.role_edit, name="role_edit"),
    path("roles/<int:role_id>/delete/", views.role_delete, name="role_delete"),
    path("tags/", views.tags, name="tags"),
    path("tags/<int:tag_id>/edit/", views.tag_edit, name="tag_edit"),
    path("tags/<int:tag_id>/delete/", views.tag_delete, name="tag_delete"),
]
