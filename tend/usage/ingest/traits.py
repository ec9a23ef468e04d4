"""Turning the traits and attributes clients send into Tend fields and typed attributes.

Clients name things their own way: Segment traits (``plan``, ``contractValue``), Totango
attribute API names with spaces (``Contract Value``), Planhat custom fields. A trait is
matched to an attribute definition by its key, by its label, or by either written in
``snake_case`` (``contractValue`` → ``contract_value``). Values are checked by the
attribute's type in the bulk upsert. Names that match nothing are returned so the
ingestion log can tally them (see ``UnmappedTrait``).
"""

import re
from collections.abc import Mapping

from tend.accounts.models import AccountStatus

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")

# Traits that are fields of the object rather than custom attributes.
ACCOUNT_FIELDS = {"name": "name", "status": "status", "parent_id": "parent_external_id"}
USER_FIELDS = {"email": "email", "name": "name"}
# Segment's reserved traits that describe the object itself, never custom attributes.
IGNORED = {"id", "user_id", "group_id", "first_name", "last_name", "firstname", "lastname"}


def snake(name: str) -> str:
    return _NOT_WORD.sub("_", _CAMEL.sub("_", name.strip()).lower()).strip("_")


class TraitMapper:
    """Maps trait names to attribute keys for one object type of one workspace."""

    def __init__(self, definitions: Mapping):
        self.by_name: dict[str, str] = {}
        for key, definition in definitions.items():
            self.by_name[key] = key
            self.by_name.setdefault(snake(key), key)
            self.by_name.setdefault(definition.label.strip().lower(), key)
            self.by_name.setdefault(snake(definition.label), key)

    def key_for(self, name: str) -> str | None:
        return (
            self.by_name.get(name)
            or self.by_name.get(name.strip().lower())
            or self.by_name.get(snake(name))
        )

    def split(self, traits: Mapping, fields: Mapping[str, str]) -> tuple[dict, dict, dict]:
        """Return (field values, attribute values by key, unmapped name → sample value).

        ``None`` values are skipped: Segment clients send ``null`` for traits they do not
        know, which must not erase a stored value.
        """
        values, attributes, unmapped = {}, {}, {}
        for name, value in traits.items():
            if value is None or not isinstance(name, str):
                continue
            plain = snake(name)
            field = fields.get(plain)
            if field is not None:
                values[field] = value
                continue
            key = self.key_for(name)
            if key is not None:
                attributes[key] = value
            elif plain not in IGNORED:
                unmapped[name] = value
        return values, attributes, unmapped


def account_status(value) -> str | None:
    """A status trait as Tend's status, or None when it is not one of them."""
    if isinstance(value, str) and value.strip().lower() in AccountStatus.values:
        return value.strip().lower()
    return None


def person_name(traits: Mapping) -> str | None:
    """``name``, else first and last name together (Segment's ``firstName``/``lastName``)."""
    name = traits.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    parts = []
    for key in ("firstName", "first_name", "lastName", "last_name"):
        part = traits.get(key)
        if isinstance(part, str) and part.strip():
            parts.append(part.strip())
    return " ".join(parts) or None
