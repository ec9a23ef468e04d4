"""What the data model actions share: field cleaners, wording, the colour palette.

Each cleaner raises :class:`InvalidInput` naming the field, so an action can check all its
input before it writes anything.
"""

import re
from collections.abc import Mapping

from django.db.models import Max

from tend.accounts.models import KEY_PATTERN, Account, Contact, EndUser, ObjectType
from tend.lib.errors import InvalidInput
from tend.workspaces.access import Actor

OBJECT_MODELS = {ObjectType.ACCOUNT: Account, ObjectType.USER: EndUser, ObjectType.CONTACT: Contact}
OBJECT_NOUNS = {
    ObjectType.ACCOUNT: "account",
    ObjectType.USER: "end user",
    ObjectType.CONTACT: "contact",
}
COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
# New stages take the next colour of this palette unless one is given; new tags a quiet slate.
DEFAULT_TAG_COLOR = "#475569"
PALETTE = ["#0ea5e9", "#14b8a6", "#22c55e", "#eab308", "#f97316", "#a855f7", "#ec4899", "#64748b"]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def have(count: int, noun: str) -> str:
    return f"{plural(count, noun)} {'has' if count == 1 else 'have'}"


def objects_of(actor: Actor, object_type: str):
    return OBJECT_MODELS[object_type].objects.filter(workspace=actor.workspace)


def clean_text(data: Mapping, field: str, *, max_length: int, required: bool = True) -> str:
    value = data.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be text")
    value = value.strip()
    if required and not value:
        raise InvalidInput(field, "is required")
    if len(value) > max_length:
        raise InvalidInput(field, f"is longer than {max_length} characters")
    return value


def clean_key(data: Mapping, field: str = "key") -> str:
    value = clean_text(data, field, max_length=63)
    if not re.match(KEY_PATTERN, value):
        raise InvalidInput(
            field,
            "use lower-case letters, digits and _, starting with a letter (e.g. renewal_date)",
        )
    return value


def clean_color(data: Mapping, default: str) -> str:
    value = data.get("color")
    if value in (None, ""):
        return default
    if not isinstance(value, str) or not COLOR_PATTERN.match(value.strip()):
        raise InvalidInput("color", "must be a colour like #14b8a6")
    return value.strip().lower()


def clean_bool(data: Mapping, field: str) -> bool:
    value = data.get(field, False)
    if not isinstance(value, bool):
        raise InvalidInput(field, "must be true or false")
    return value


def reject_unknown(data: Mapping, allowed: set[str]) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise InvalidInput(extra[0], "is not a field here")


def unique_name(actor: Actor, model, noun: str, data: Mapping, exclude_pk=None) -> str:
    """The cleaned ``name``, refused when another ``model`` row has it (ignoring case)."""
    name = clean_text(data, "name", max_length=80)
    clash = model.objects.filter(workspace=actor.workspace, name__iexact=name).exclude(
        pk=exclude_pk
    )
    if clash.exists():
        raise InvalidInput("name", f"a {noun} named {name!r} already exists")
    return name


def next_position(queryset) -> int:
    top = queryset.aggregate(top=Max("position"))["top"]
    return 0 if top is None else top + 1
