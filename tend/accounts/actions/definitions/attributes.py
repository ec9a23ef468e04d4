"""Attribute definitions: the custom fields of accounts, end users and contacts.

Changing a definition must keep every stored value valid, so a type change converts the
values (or refuses, counting the misfits), and deleting one strips its key everywhere.
"""

from collections.abc import Mapping

from django.db import connection, transaction
from django.utils import timezone

from tend.accounts.actions.definitions.common import (
    OBJECT_MODELS,
    OBJECT_NOUNS,
    clean_bool,
    clean_key,
    clean_text,
    have,
    next_position,
    objects_of,
    plural,
    reject_unknown,
)
from tend.accounts.attributes import AttributeValueError, coerce
from tend.accounts.models import AttributeDefinition, AttributeType, ObjectType
from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, Actor

ENUM_TYPES = (AttributeType.ENUM, AttributeType.MULTI_ENUM)
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
ATTRIBUTE_FIELDS = {"object_type", "key", "label", "type", "options", "required", "description"}


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
    reject_unknown(data, ATTRIBUTE_FIELDS)
    object_type = data.get("object_type") or ObjectType.ACCOUNT
    if object_type not in ObjectType.values:
        raise InvalidInput("object_type", f"must be one of {', '.join(ObjectType.values)}")
    key = clean_key(data)
    label = clean_text(data, "label", max_length=120)
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
        required=clean_bool(data, "required"),
        description=clean_text(data, "description", max_length=300, required=False),
        position=next_position(existing),
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
    reject_unknown(data, ATTRIBUTE_FIELDS)
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
        label=clean_text(data, "label", max_length=120) if "label" in data else definition.label,
        type=data.get("type", definition.type) or definition.type,
        required=clean_bool(data, "required") if "required" in data else definition.required,
        description=(
            clean_text(data, "description", max_length=300, required=False)
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
