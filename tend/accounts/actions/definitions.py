"""Every change to the data model: attribute definitions, journey stages, roles and tags.

Definitions are admin-only (tags: any writer). Each function runs in one transaction and
raises :class:`InvalidInput` naming the field before writing anything, so a clash or an
unsafe change reads as a sentence, never as an IntegrityError.
"""

import re
from collections.abc import Mapping

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from tend.accounts.attributes import AttributeValueError, coerce
from tend.accounts.models import (
    KEY_PATTERN,
    Account,
    AssignmentRole,
    AttributeDefinition,
    AttributeType,
    Contact,
    EndUser,
    ObjectType,
    Stage,
    Tag,
)
from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, WRITE, Actor

OBJECT_MODELS = {ObjectType.ACCOUNT: Account, ObjectType.USER: EndUser, ObjectType.CONTACT: Contact}
OBJECT_NOUNS = {
    ObjectType.ACCOUNT: "account",
    ObjectType.USER: "end user",
    ObjectType.CONTACT: "contact",
}
ENUM_TYPES = (AttributeType.ENUM, AttributeType.MULTI_ENUM)
COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
# New stages and tags take the next colour of this palette unless one is given.
DEFAULT_TAG_COLOR = "#475569"
PALETTE = ["#0ea5e9", "#14b8a6", "#22c55e", "#eab308", "#f97316", "#a855f7", "#ec4899", "#64748b"]

VALUE_NAMES = {
    AttributeType.TEXT: "text",
    AttributeType.NUMBER: "number",
    AttributeType.CURRENCY: "amount",
    AttributeType.DATE: "date",
    AttributeType.BOOLEAN: "yes/no value",
    AttributeType.ENUM: "option of the list",
    AttributeType.MULTI_ENUM: "list of options",
    AttributeType.URL: "web address",
}

DEFAULT_STAGES = ["Onboarding", "Adoption", "Value realisation", "Renewal", "Advocate"]
DEFAULT_ROLES = [("success_manager", "Success Manager"), ("sales_manager", "Sales Manager")]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def have(count: int, noun: str) -> str:
    return f"{plural(count, noun)} {'has' if count == 1 else 'have'}"


def objects_of(actor: Actor, object_type: str):
    return OBJECT_MODELS[object_type].objects.filter(workspace=actor.workspace)


# --- Field cleaners -----------------------------------------------------------------------


def _text(data: Mapping, field: str, *, max_length: int, required: bool = True) -> str:
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


def _key(data: Mapping, field: str = "key") -> str:
    value = _text(data, field, max_length=63)
    if not re.match(KEY_PATTERN, value):
        raise InvalidInput(
            field,
            "use lower-case letters, digits and _, starting with a letter (e.g. renewal_date)",
        )
    return value


def _color(data: Mapping, default: str) -> str:
    value = data.get("color")
    if value in (None, ""):
        return default
    if not isinstance(value, str) or not COLOR_PATTERN.match(value.strip()):
        raise InvalidInput("color", "must be a colour like #14b8a6")
    return value.strip().lower()


def _bool(data: Mapping, field: str) -> bool:
    value = data.get(field, False)
    if not isinstance(value, bool):
        raise InvalidInput(field, "must be true or false")
    return value


def _options(value, kind: str) -> list[str]:
    if kind not in ENUM_TYPES:
        return []  # options only mean something for enums; other types ignore them
    if value is None:
        value = []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidInput("options", "must be a list of text options")
    options = [v.strip() for v in value]
    if any(not v for v in options):
        raise InvalidInput("options", "options must not be empty")
    if any(len(v) > 120 for v in options):
        raise InvalidInput("options", "each option must be at most 120 characters")
    seen = set()
    for option in options:
        if option in seen:
            raise InvalidInput("options", f"{option!r} is listed twice")
        seen.add(option)
    if not options:
        raise InvalidInput("options", "a list type needs at least one option")
    return options


def _unknown(data: Mapping, allowed: set[str]) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise InvalidInput(extra[0], "is not a field here")


def _next_position(queryset) -> int:
    top = queryset.aggregate(top=Max("position"))["top"]
    return 0 if top is None else top + 1


# --- Attribute definitions ----------------------------------------------------------------

ATTRIBUTE_FIELDS = {"object_type", "key", "label", "type", "options", "required", "description"}


def _stored_values(actor: Actor, definition: AttributeDefinition):
    """(pk, value) of every object of the definition's type that has a value for its key."""
    # Whole dicts rather than a key transform: SQLite's json_extract hands back the string
    # "12" as text that Django then decodes as the number 12.
    rows = (
        objects_of(actor, definition.object_type)
        .filter(attributes__has_key=definition.key)
        .values_list("pk", "attributes")
        .iterator(chunk_size=2000)
    )
    for pk, attributes in rows:
        yield pk, attributes[definition.key]


def _check_type_change(
    actor: Actor, definition: AttributeDefinition, new: AttributeDefinition
) -> list:
    """Return (pk, converted value) for stored values whose form changes under ``new``.

    Raises when any stored value does not fit the new type, saying how many do not.
    """
    changed, misfits = [], 0
    for pk, value in _stored_values(actor, definition):
        try:
            converted = coerce(new, value)
        except AttributeValueError:
            misfits += 1
            continue
        if converted != value:
            changed.append((pk, converted))
    if misfits:
        noun = OBJECT_NOUNS[definition.object_type]
        raise InvalidInput(
            "type",
            f"{have(misfits, noun)} a value that is not a valid {VALUE_NAMES[new.type]}: "
            f"change or clear those values first",
        )
    return changed


def _check_removed_options(
    actor: Actor, definition: AttributeDefinition, options: list[str]
) -> None:
    removed = set(definition.options or []) - set(options)
    if not removed:
        return
    users = 0
    for _pk, value in _stored_values(actor, definition):
        held = value if isinstance(value, list) else [value]
        if removed.intersection(held):
            users += 1
    if users:
        names = ", ".join(repr(o) for o in sorted(removed))
        noun = OBJECT_NOUNS[definition.object_type]
        raise InvalidInput(
            "options",
            f"{names} {'is' if len(removed) == 1 else 'are'} in use by {plural(users, noun)}: "
            "change those values before removing the option",
        )


def _check_required(actor: Actor, definition: AttributeDefinition) -> None:
    missing = (
        objects_of(actor, definition.object_type)
        .exclude(attributes__has_key=definition.key)
        .count()
    )
    if missing:
        noun = OBJECT_NOUNS[definition.object_type]
        raise InvalidInput(
            "required",
            f"{have(missing, noun)} no value for this attribute: fill them in before making it required",
        )


def _rewrite_values(actor: Actor, definition: AttributeDefinition, changed: list) -> None:
    """Store converted values after a type change (only the objects whose value changed)."""
    model = OBJECT_MODELS[definition.object_type]
    for start in range(0, len(changed), 1000):
        batch = dict(changed[start : start + 1000])
        objects = list(model.objects.filter(workspace=actor.workspace, pk__in=list(batch)))
        for obj in objects:
            obj.attributes = {**obj.attributes, definition.key: batch[obj.pk]}
        model.objects.bulk_update(objects, ["attributes"])


@transaction.atomic
def create_attribute(actor: Actor, data: Mapping) -> AttributeDefinition:
    actor.require(ADMIN)
    _unknown(data, ATTRIBUTE_FIELDS)
    object_type = data.get("object_type") or ObjectType.ACCOUNT
    if object_type not in ObjectType.values:
        raise InvalidInput("object_type", f"must be one of {', '.join(ObjectType.values)}")
    key = _key(data)
    label = _text(data, "label", max_length=120)
    kind = data.get("type") or AttributeType.TEXT
    if kind not in AttributeType.values:
        raise InvalidInput("type", f"must be one of {', '.join(AttributeType.values)}")
    existing = AttributeDefinition.objects.filter(
        workspace=actor.workspace, object_type=object_type
    )
    if existing.filter(key=key).exists():
        noun = OBJECT_NOUNS[object_type]
        raise InvalidInput("key", f"an {noun} attribute with key {key!r} already exists")
    definition = AttributeDefinition(
        workspace=actor.workspace,
        object_type=object_type,
        key=key,
        label=label,
        type=kind,
        options=_options(data.get("options"), kind),
        required=_bool(data, "required"),
        description=_text(data, "description", max_length=300, required=False),
        position=_next_position(existing),
    )
    if definition.required:
        _check_required(actor, definition)
    definition.save()
    return definition


@transaction.atomic
def update_attribute(
    actor: Actor, definition: AttributeDefinition, data: Mapping
) -> AttributeDefinition:
    """Change label, type, options, required or description. Key and object type are fixed:
    every stored value and API client refers to them."""
    actor.require(ADMIN)
    _unknown(data, ATTRIBUTE_FIELDS)
    definition = AttributeDefinition.objects.select_for_update().get(pk=definition.pk)
    if "key" in data and data["key"] != definition.key:
        raise InvalidInput(
            "key", "cannot be changed: create a new attribute and delete this one instead"
        )
    if "object_type" in data and data["object_type"] != definition.object_type:
        raise InvalidInput("object_type", "cannot be changed")
    new = AttributeDefinition(
        pk=definition.pk,
        workspace=definition.workspace,
        object_type=definition.object_type,
        key=definition.key,
        label=_text(data, "label", max_length=120) if "label" in data else definition.label,
        type=data.get("type", definition.type) or definition.type,
        required=_bool(data, "required") if "required" in data else definition.required,
        description=(
            _text(data, "description", max_length=300, required=False)
            if "description" in data
            else definition.description
        ),
        position=definition.position,
        created_at=definition.created_at,
    )
    if new.type not in AttributeType.values:
        raise InvalidInput("type", f"must be one of {', '.join(AttributeType.values)}")
    new.options = _options(data.get("options", definition.options), new.type)
    changed = []
    if new.type != definition.type:
        changed = _check_type_change(actor, definition, new)
    elif new.type in ENUM_TYPES:
        _check_removed_options(actor, definition, new.options)
    if new.required and not definition.required:
        _check_required(actor, new)
    _rewrite_values(actor, new, changed)
    new.save()
    return new


def _strip_key(actor: Actor, object_type: str, key: str) -> int:
    """Remove ``key`` from the attributes of every object of the type in one UPDATE."""
    table = OBJECT_MODELS[object_type]._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET attributes = attributes - %s::text, updated_at = %s "  # noqa: S608
                "WHERE workspace_id = %s AND attributes ? %s::text",
                [key, now, actor.workspace.pk, key],
            )
        else:
            # KEY_PATTERN allows only [a-z0-9_], so the JSON path needs no quoting rules.
            path = f'$."{key}"'
            cursor.execute(
                f"UPDATE {table} SET attributes = json_remove(attributes, %s), updated_at = %s "  # noqa: S608
                "WHERE workspace_id = %s AND json_type(attributes, %s) IS NOT NULL",
                [path, now, actor.workspace.pk, path],
            )
        return cursor.rowcount


def count_values(actor: Actor, definition: AttributeDefinition) -> int:
    """How many objects hold a value for this attribute (what deleting it would remove)."""
    return (
        objects_of(actor, definition.object_type).filter(attributes__has_key=definition.key).count()
    )


@transaction.atomic
def delete_attribute(actor: Actor, definition: AttributeDefinition) -> int:
    """Delete the definition and strip its key from every object; return how many changed."""
    actor.require(ADMIN)
    removed = _strip_key(actor, definition.object_type, definition.key)
    definition.delete()
    return removed


# --- Journey stages -------------------------------------------------------------------------

STAGE_FIELDS = {"name", "color", "description", "position"}


def _stage_name(actor: Actor, data: Mapping, exclude_pk=None) -> str:
    name = _text(data, "name", max_length=80)
    clash = Stage.objects.filter(workspace=actor.workspace, name__iexact=name).exclude(
        pk=exclude_pk
    )
    if clash.exists():
        raise InvalidInput("name", f"a stage named {name!r} already exists")
    return name


@transaction.atomic
def create_stage(actor: Actor, data: Mapping) -> Stage:
    """Add a stage at the end of the journey."""
    actor.require(ADMIN)
    _unknown(data, STAGE_FIELDS - {"position"})
    stages = Stage.objects.filter(workspace=actor.workspace)
    position = _next_position(stages)
    return Stage.objects.create(
        workspace=actor.workspace,
        name=_stage_name(actor, data),
        color=_color(data, PALETTE[position % len(PALETTE)]),
        description=_text(data, "description", max_length=300, required=False),
        position=position,
    )


@transaction.atomic
def update_stage(actor: Actor, stage: Stage, data: Mapping) -> Stage:
    actor.require(ADMIN)
    _unknown(data, STAGE_FIELDS)
    if "name" in data:
        stage.name = _stage_name(actor, data, exclude_pk=stage.pk)
    if "color" in data:
        stage.color = _color(data, stage.color)
    if "description" in data:
        stage.description = _text(data, "description", max_length=300, required=False)
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


# --- Assignment roles -------------------------------------------------------------------------

ROLE_FIELDS = {"key", "name"}


def _role_fields(actor: Actor, data: Mapping, role: AssignmentRole | None) -> dict:
    clean = {}
    roles = AssignmentRole.objects.filter(workspace=actor.workspace).exclude(
        pk=role.pk if role else None
    )
    if role is None or "key" in data:
        clean["key"] = _key(data)
        if roles.filter(key=clean["key"]).exists():
            raise InvalidInput("key", f"a role with key {clean['key']!r} already exists")
    if role is None or "name" in data:
        clean["name"] = _text(data, "name", max_length=80)
        if roles.filter(name__iexact=clean["name"]).exists():
            raise InvalidInput("name", f"a role named {clean['name']!r} already exists")
    return clean


@transaction.atomic
def create_role(actor: Actor, data: Mapping) -> AssignmentRole:
    actor.require(ADMIN)
    _unknown(data, ROLE_FIELDS)
    clean = _role_fields(actor, data, None)
    position = _next_position(AssignmentRole.objects.filter(workspace=actor.workspace))
    return AssignmentRole.objects.create(workspace=actor.workspace, position=position, **clean)


@transaction.atomic
def update_role(actor: Actor, role: AssignmentRole, data: Mapping) -> AssignmentRole:
    actor.require(ADMIN)
    _unknown(data, ROLE_FIELDS)
    for field, value in _role_fields(actor, data, role).items():
        setattr(role, field, value)
    role.save()
    return role


@transaction.atomic
def delete_role(actor: Actor, role: AssignmentRole) -> None:
    """Delete the role and every assignment made under it."""
    actor.require(ADMIN)
    role.delete()


# --- Tags ---------------------------------------------------------------------------------------

TAG_FIELDS = {"name", "color"}


def _tag_name(actor: Actor, data: Mapping, exclude_pk=None) -> str:
    name = _text(data, "name", max_length=80)
    if (
        Tag.objects.filter(workspace=actor.workspace, name__iexact=name)
        .exclude(pk=exclude_pk)
        .exists()
    ):
        raise InvalidInput("name", f"a tag named {name!r} already exists")
    return name


@transaction.atomic
def create_tag(actor: Actor, data: Mapping) -> Tag:
    actor.require(WRITE)
    _unknown(data, TAG_FIELDS)
    name = _tag_name(actor, data)
    return Tag.objects.create(
        workspace=actor.workspace, name=name, color=_color(data, DEFAULT_TAG_COLOR)
    )


@transaction.atomic
def update_tag(actor: Actor, tag: Tag, data: Mapping) -> Tag:
    actor.require(WRITE)
    _unknown(data, TAG_FIELDS)
    if "name" in data:
        tag.name = _tag_name(actor, data, exclude_pk=tag.pk)
    if "color" in data:
        tag.color = _color(data, tag.color)
    tag.save()
    return tag


def rename_tag(actor: Actor, tag: Tag, name: str) -> Tag:
    return update_tag(actor, tag, {"name": name})


@transaction.atomic
def delete_tag(actor: Actor, tag: Tag) -> None:
    """Delete the tag; accounts simply lose it."""
    actor.require(WRITE)
    tag.delete()


# --- A new workspace's starting data model ---------------------------------------------------


def set_up_workspace(sender=None, *, workspace, actor: Actor, **kwargs) -> None:
    """Give a new workspace the usual journey stages and assignment roles.

    Connected to ``tend.workspaces.actions.workspace_created`` (workspaces sits below
    accounts, so it announces the new workspace rather than importing this module).
    """
    for name in DEFAULT_STAGES:
        create_stage(actor, {"name": name})
    for key, name in DEFAULT_ROLES:
        create_role(actor, {"key": key, "name": name})
