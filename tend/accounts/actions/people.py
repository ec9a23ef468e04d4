"""Every change to end users and contacts goes through these functions.

The field rules live in :func:`clean_person` — one function used by the single-object
actions below and by the bulk upsert (``tend.accounts.bulk``), which passes lookups it has
loaded for the whole batch. It collects every problem instead of stopping at the first, so a
bulk item reports all of its errors at once; the single-object actions raise the first.
"""

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from tend.accounts.actions.accounts import attribute_definitions, clean_external_id
from tend.accounts.attributes import AttributeValueError, coerce, required_keys
from tend.accounts.models import Account, Contact, EndUser, ObjectType
from tend.lib.errors import InvalidInput
from tend.workspaces.access import WRITE, Actor

END_USER_FIELDS = ("external_id", "account_external_id", "email", "name", "attributes")
CONTACT_FIELDS = (*END_USER_FIELDS, "phone", "role", "is_key_contact")
# Read-only fields a client may echo back from a GET; they are ignored, not refused.
READ_ONLY_FIELDS = frozenset({"id", "created_at", "updated_at"})
# (field, maximum length) of the plain text fields.
TEXT_LIMITS = {"name": 200, "email": 254, "phone": 50, "role": 120}


class PersonKind:
    """What differs between end users and contacts."""

    def __init__(self, model, object_type: str, fields: tuple, account_required: bool):
        self.model = model
        self.object_type = object_type
        self.fields = fields
        self.account_required = account_required
        self.noun = model._meta.verbose_name


END_USER = PersonKind(EndUser, ObjectType.USER, END_USER_FIELDS, account_required=False)
CONTACT = PersonKind(Contact, ObjectType.CONTACT, CONTACT_FIELDS, account_required=True)


def clean_person(
    kind: PersonKind,
    data: Mapping,
    *,
    definitions: Mapping,
    account_ids: Mapping[str, int],
    current: Mapping | None = None,
) -> tuple[dict, list[dict]]:
    """Check ``data`` against the rules for ``kind``; return (model field values, errors).

    ``current`` holds the stored ``attributes`` (and is None for a new object);
    ``account_ids`` maps the account external ids that ``data`` may name to their ids.
    Errors are ``{"field", "message"}`` dicts; the values are only meaningful without them.
    """
    errors: list[dict] = []
    clean: dict = {}
    is_new = current is None

    def fail(field, message):
        errors.append({"field": field, "message": message})

    for field in data:
        if field not in kind.fields and field not in READ_ONLY_FIELDS:
            fail(
                field,
                f"is not a field of an {kind.noun}"
                if kind is END_USER
                else f"is not a field of a {kind.noun}",
            )
    if "external_id" in data or is_new:
        try:
            clean["external_id"] = clean_external_id(data.get("external_id"))
        except InvalidInput as exc:
            fail(exc.field, exc.message)
    for field, limit in TEXT_LIMITS.items():
        if field not in data or field not in kind.fields:
            continue
        value = data[field]
        if value is None:
            value = ""
        if not isinstance(value, str):
            fail(field, "expected text")
            continue
        value = value.strip()
        if len(value) > limit:
            fail(field, f"is longer than {limit} characters")
            continue
        if field == "email" and value:
            try:
                validate_email(value)
            except ValidationError:
                fail(field, f"{value!r} is not an email address")
                continue
        clean[field] = value
    if (
        kind is CONTACT
        and is_new
        and not clean.get("name")
        and not any(e["field"] == "name" for e in errors)
    ):
        fail("name", "is required")
    if "is_key_contact" in data and "is_key_contact" in kind.fields:
        if not isinstance(data["is_key_contact"], bool):
            fail("is_key_contact", "expected true or false")
        else:
            clean["is_key_contact"] = data["is_key_contact"]
    if "account_external_id" in data or (is_new and kind.account_required):
        ref = data.get("account_external_id")
        if ref in (None, ""):
            if kind.account_required:
                fail("account_external_id", "is required: a contact belongs to an account")
            else:
                clean["account_id"] = None
        elif not isinstance(ref, str):
            fail("account_external_id", "expected text")
        elif ref not in account_ids:
            fail("account_external_id", f"no account with external id {ref!r}")
        else:
            clean["account_id"] = account_ids[ref]
    if "attributes" in data or is_new:
        attributes = clean_attribute_values(
            definitions, data.get("attributes", {}), (current or {}).get("attributes") or {}, errors
        )
        if attributes is not None:
            clean["attributes"] = attributes
    return clean, errors


def clean_attribute_values(
    definitions: Mapping, incoming, current: Mapping, errors: list
) -> dict | None:
    """Merge ``incoming`` into ``current``, appending one error per bad key to ``errors``."""
    if not isinstance(incoming, Mapping):
        errors.append(
            {"field": "attributes", "message": "expected an object keyed by attribute key"}
        )
        return None
    result = dict(current)
    before = len(errors)
    for key, raw in incoming.items():
        definition = definitions.get(key)
        stored = current.get(key)
        if (
            definition is not None
            and stored is not None
            and type(raw) is type(stored)
            and raw == stored
        ):
            continue  # already in its stored (checked) form: most keys of a re-sent item
        if definition is None:
            errors.append(
                {
                    "field": f"attributes.{key}",
                    "message": f"unknown attribute '{key}': define it in the data model first",
                }
            )
            continue
        try:
            value = coerce(definition, raw)
        except AttributeValueError as exc:
            errors.append({"field": exc.field, "message": exc.message})
            continue
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    for key in required_keys(definitions.values()):
        if key not in result and not any(
            e["field"] == f"attributes.{key}" for e in errors[before:]
        ):
            errors.append({"field": f"attributes.{key}", "message": "is required"})
    return result if len(errors) == before else None


def _account_ids(actor: Actor, data: Mapping) -> dict[str, int]:
    ref = data.get("account_external_id")
    if not isinstance(ref, str) or not ref:
        return {}
    return dict(
        Account.objects.filter(workspace=actor.workspace, external_id=ref).values_list(
            "external_id", "id"
        )
    )


def _clean_or_raise(actor: Actor, kind: PersonKind, data: Mapping, current: Mapping | None) -> dict:
    if not isinstance(data, Mapping):
        raise InvalidInput("body", "expected an object")
    clean, errors = clean_person(
        kind,
        data,
        definitions=attribute_definitions(actor.workspace, kind.object_type),
        account_ids=_account_ids(actor, data),
        current=current,
    )
    if errors:
        raise InvalidInput(errors[0]["field"], errors[0]["message"])
    if "external_id" in clean:
        clash = kind.model.objects.filter(
            workspace=actor.workspace, external_id=clean["external_id"]
        )
        if current is not None:
            clash = clash.exclude(pk=current["id"])
        if clash.exists():
            raise InvalidInput(
                "external_id",
                f"another {kind.noun} already has external id {clean['external_id']!r}",
            )
    return clean


def _create(actor: Actor, kind: PersonKind, data: Mapping):
    actor.require(WRITE)
    clean = _clean_or_raise(actor, kind, data, None)
    now = timezone.now()
    return kind.model.objects.create(
        workspace=actor.workspace, created_at=now, updated_at=now, **clean
    )


def _update(actor: Actor, kind: PersonKind, person, data: Mapping):
    actor.require(WRITE)
    person = kind.model.objects.select_for_update().get(pk=person.pk)
    clean = _clean_or_raise(actor, kind, data, {"id": person.pk, "attributes": person.attributes})
    changed = [field for field, value in clean.items() if getattr(person, field) != value]
    if changed:
        for field in changed:
            setattr(person, field, clean[field])
        person.updated_at = timezone.now()
        person.save(update_fields=[*changed, "updated_at"])
    return person


@transaction.atomic
def create_end_user(actor: Actor, data: Mapping) -> EndUser:
    """Create an end user (``external_id`` required; ``account_external_id`` optional)."""
    return _create(actor, END_USER, data)


@transaction.atomic
def update_end_user(actor: Actor, end_user: EndUser, data: Mapping) -> EndUser:
    """Change the given fields; attributes are merged (``None`` unsets one)."""
    return _update(actor, END_USER, end_user, data)


@transaction.atomic
def delete_end_user(actor: Actor, end_user: EndUser) -> None:
    actor.require(WRITE)
    end_user.delete()


@transaction.atomic
def create_contact(actor: Actor, data: Mapping) -> Contact:
    """Create a contact (``external_id``, ``name`` and ``account_external_id`` required)."""
    return _create(actor, CONTACT, data)


@transaction.atomic
def update_contact(actor: Actor, contact: Contact, data: Mapping) -> Contact:
    """Change the given fields; attributes are merged (``None`` unsets one)."""
    return _update(actor, CONTACT, contact, data)


@transaction.atomic
def delete_contact(actor: Actor, contact: Contact) -> None:
    actor.require(WRITE)
    contact.delete()
