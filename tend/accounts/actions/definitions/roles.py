"""Assignment roles: the hats people wear on an account (Success Manager, Sales Manager…)."""

from collections.abc import Mapping

from django.db import transaction

from tend.accounts.actions.definitions.common import (
    clean_key,
    clean_text,
    next_position,
    reject_unknown,
)
from tend.accounts.models import AssignmentRole
from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, Actor

ROLE_FIELDS = {"key", "name"}


def _role_fields(actor: Actor, data: Mapping, role: AssignmentRole | None) -> dict:
    clean = {}
    roles = AssignmentRole.objects.filter(workspace=actor.workspace).exclude(
        pk=role.pk if role else None
    )
    if role is None or "key" in data:
        clean["key"] = clean_key(data)
        if roles.filter(key=clean["key"]).exists():
            raise InvalidInput("key", f"a role with key {clean['key']!r} already exists")
    if role is None or "name" in data:
        clean["name"] = clean_text(data, "name", max_length=80)
        if roles.filter(name__iexact=clean["name"]).exists():
            raise InvalidInput("name", f"a role named {clean['name']!r} already exists")
    return clean


@transaction.atomic
def create_role(actor: Actor, data: Mapping) -> AssignmentRole:
    actor.require(ADMIN)
    reject_unknown(data, ROLE_FIELDS)
    clean = _role_fields(actor, data, None)
    position = next_position(AssignmentRole.objects.filter(workspace=actor.workspace))
    return AssignmentRole.objects.create(workspace=actor.workspace, position=position, **clean)


@transaction.atomic
def update_role(actor: Actor, role: AssignmentRole, data: Mapping) -> AssignmentRole:
    actor.require(ADMIN)
    reject_unknown(data, ROLE_FIELDS)
    for field, value in _role_fields(actor, data, role).items():
        setattr(role, field, value)
    role.save()
    return role


@transaction.atomic
def delete_role(actor: Actor, role: AssignmentRole) -> None:
    """Delete the role and every assignment made under it."""
    actor.require(ADMIN)
    role.delete()
