"""Every change to the data model: attribute definitions, journey stages, roles and tags.

Definitions are admin-only (tags: any writer). Each function runs in one transaction and
raises :class:`InvalidInput` naming the field before writing anything, so a clash or an
unsafe change reads as a sentence, never as an IntegrityError.

One module per concept; this package re-exports their actions so callers keep importing
``from tend.accounts.actions.definitions import create_attribute``.
"""

from tend.accounts.actions.definitions.attributes import (
    count_values,
    create_attribute,
    delete_attribute,
    update_attribute,
)
from tend.accounts.actions.definitions.common import (
    DEFAULT_TAG_COLOR,
    OBJECT_NOUNS,
    PALETTE,
    plural,
)
from tend.accounts.actions.definitions.roles import create_role, delete_role, update_role
from tend.accounts.actions.definitions.stages import (
    create_stage,
    delete_stage,
    move_stage,
    update_stage,
)
from tend.accounts.actions.definitions.tags import create_tag, delete_tag, rename_tag, update_tag
from tend.workspaces.access import Actor

DEFAULT_STAGES = ["Onboarding", "Adoption", "Value realisation", "Renewal", "Advocate"]
DEFAULT_ROLES = [("success_manager", "Success Manager"), ("sales_manager", "Sales Manager")]

__all__ = [
    "DEFAULT_ROLES",
    "DEFAULT_STAGES",
    "DEFAULT_TAG_COLOR",
    "OBJECT_NOUNS",
    "PALETTE",
    "count_values",
    "create_attribute",
    "create_role",
    "create_stage",
    "create_tag",
    "delete_attribute",
    "delete_role",
    "delete_stage",
    "delete_tag",
    "move_stage",
    "plural",
    "rename_tag",
    "set_up_workspace",
    "update_attribute",
    "update_role",
    "update_stage",
    "update_tag",
]


def set_up_workspace(sender=None, *, workspace, actor: Actor, **kwargs) -> None:
    """Give a new workspace the usual journey stages and assignment roles.

    Connected to ``tend.workspaces.actions.workspace_created`` (workspaces sits below
    accounts, so it announces the new workspace rather than importing this module).
    """
    for name in DEFAULT_STAGES:
        create_stage(actor, {"name": name})
    for key, name in DEFAULT_ROLES:
        create_role(actor, {"key": key, "name": name})
