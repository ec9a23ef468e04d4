"""Journey stages: an ordered list (positions 0…n-1, kept gapless) that accounts move along."""

from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from tend.accounts.actions.definitions.common import (
    PALETTE,
    clean_color,
    clean_text,
    next_position,
    reject_unknown,
    unique_name,
)
from tend.accounts.models import Account, Stage
from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, Actor

STAGE_FIELDS = {"name", "color", "description", "position"}


@transaction.atomic
def create_stage(actor: Actor, data: Mapping) -> Stage:
    """Add a stage at the end of the journey."""
    actor.require(ADMIN)
    reject_unknown(data, STAGE_FIELDS - {"position"})
    stages = Stage.objects.filter(workspace=actor.workspace)
    position = next_position(stages)
    return Stage.objects.create(
        workspace=actor.workspace,
        name=unique_name(actor, Stage, "stage", data),
        color=clean_color(data, PALETTE[position % len(PALETTE)]),
        description=clean_text(data, "description", max_length=300, required=False),
        position=position,
    )


@transaction.atomic
def update_stage(actor: Actor, stage: Stage, data: Mapping) -> Stage:
    actor.require(ADMIN)
    reject_unknown(data, STAGE_FIELDS)
    if "name" in data:
        stage.name = unique_name(actor, Stage, "stage", data, exclude_pk=stage.pk)
    if "color" in data:
        stage.color = clean_color(data, stage.color)
    if "description" in data:
        stage.description = clean_text(data, "description", max_length=300, required=False)
    stage.save()
    if "position" in data:
        stage = move_stage(actor, stage, data["position"])
    return stage


def _renumber(ordered: list[Stage]) -> None:
    for index, item in enumerate(ordered):
        item.position = index
    Stage.objects.bulk_update(ordered, ["position"])


@transaction.atomic
def move_stage(actor: Actor, stage: Stage, new_position: int) -> Stage:
    """Move ``stage`` to ``new_position`` (0 is first) and renumber the others around it."""
    actor.require(ADMIN)
    ordered = list(
        Stage.objects.select_for_update()
        .filter(workspace=actor.workspace)
        .order_by("position", "id")
    )
    if isinstance(new_position, bool) or not isinstance(new_position, int):
        raise InvalidInput("position", "must be a whole number")
    if not 0 <= new_position < len(ordered):
        raise InvalidInput("position", f"must be between 0 and {len(ordered) - 1}")
    moving = next(s for s in ordered if s.pk == stage.pk)
    ordered.remove(moving)
    ordered.insert(new_position, moving)
    _renumber(ordered)
    return moving


@transaction.atomic
def delete_stage(actor: Actor, stage: Stage) -> int:
    """Delete the stage; its accounts are left with no stage. Returns how many there were."""
    actor.require(ADMIN)
    moved = Account.objects.filter(workspace=actor.workspace, stage=stage).update(
        stage=None, stage_entered_at=None, updated_at=timezone.now()
    )
    stage.delete()
    _renumber(list(Stage.objects.filter(workspace=actor.workspace).order_by("position", "id")))
    return moved
