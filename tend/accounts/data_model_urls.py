from django.urls import path

from tend.accounts.views.data_model import attributes, roles, stages, tags

app_name = "data_model"

urlpatterns = [
    path("", attributes.index, name="index"),
    # One route per object type rather than a <slug> parameter, so every URL parameter is an
    # object id; reverse("data_model:attributes", kwargs={"object_type": …}) picks the route.
    path("attributes/user/", attributes.attributes, {"object_type": "user"}, name="attributes"),
    path(
        "attributes/contact/",
        attributes.attributes,
        {"object_type": "contact"},
        name="attributes",
    ),
    path("attributes/<int:attribute_id>/edit/", attributes.attribute_edit, name="attribute_edit"),
    path(
        "attributes/<int:attribute_id>/delete/",
        attributes.attribute_delete,
        name="attribute_delete",
    ),
    path("stages/", stages.stages, name="stages"),
    path("stages/<int:stage_id>/edit/", stages.stage_edit, name="stage_edit"),
    path("stages/<int:stage_id>/move/", stages.stage_move, name="stage_move"),
    path("stages/<int:stage_id>/delete/", stages.stage_delete, name="stage_delete"),
    path("roles/", roles.roles, name="roles"),
    path("roles/<int:role_id>/edit/", roles.role_edit, name="role_edit"),
    path("roles/<int:role_id>/delete/", roles.role_delete, name="role_delete"),
    path("tags/", tags.tags, name="tags"),
    path("tags/<int:tag_id>/edit/", tags.tag_edit, name="tag_edit"),
    path("tags/<int:tag_id>/delete/", tags.tag_delete, name="tag_delete"),
]
