"""Tags: free labels on accounts. Any writer may manage them, unlike the other definitions."""

from collections.abc import Mapping

from django.db import transaction

from tend.accounts.actions.definitions.common import (
    DEFAULT_TAG_COLOR,
    clean_color,
    reject_unknown,
    unique_name,
)
from tend.accounts.models import Tag
from tend.workspaces.access import WRITE, Actor

TAG_FIELDS = {"name", "color"}


@transaction.atomic
def create_tag(actor: Actor, data: Mapping) -> Tag:
    actor.require(WRITE)
    reject_unknown(data, TAG_FIELDS)
    name = unique_name(actor, Tag, "tag", data)
    return Tag.objects.create(
        workspace=actor.workspace, name=name, color=clean_color(data, DEFAULT_TAG_COLOR)
    )


@transaction.atomic
def update_tag(actor: Actor, tag: Tag, data: Mapping) -> Tag:
    actor.require(WRITE)
    reject_unknown(data, TAG_FIELDS)
    if "name" in data:
        tag.name = unique_name(actor, Tag, "tag", data, exclude_pk=tag.pk)
    if "color" in data:
        tag.color = clean_color(data, tag.color)
    tag.save()
    return tag


def rename_tag(actor: Actor, tag: Tag, name: str) -> Tag:
    return update_tag(actor, tag, {"name": name})


@transaction.atomic
def delete_tag(actor: Actor, tag: Tag) -> None:
    """Delete the tag; accounts simply lose it."""
    actor.require(WRITE)
    tag.delete()
