"""Columns to fields: what each object's fields are, the suggested mapping for a header row,
checking a mapping, and turning one row into the item the bulk upsert takes.

A mapping is ``{column header: field}``. A field is a built-in name (``external_id``,
``name`` …), ``attributes.<key>`` for a defined attribute, ``new.<key>`` for an attribute
the import creates (text), or ``""`` to ignore the column. Columns left out of the mapping
are "unknown": ignored, or created as text attributes when the import says so.

An empty cell leaves the stored value as it is (a blank in a spreadsheet is not a request to
erase), so re-importing a partial export never wipes fields.
"""

import re
from dataclasses import dataclass

from tend.accounts.actions.accounts import attribute_definitions
from tend.accounts.models import AttributeDefinition, ObjectType
from tend.hub.models import FieldOwner, ImportObject, UnknownColumns
from tend.hub.objects import Record, record
from tend.lib.errors import InvalidInput

# field → (label, words a header may use for it)
BUILT_IN = {
    ImportObject.ACCOUNT: {
        "external_id": ("External id (key)", ("external id", "id", "account id", "account external id", "key", "customer id")),
        "name": ("Name", ("name", "account name", "account", "company", "company name", "customer")),
        "status": ("Status", ("status", "account status")),
        "stage": ("Journey stage", ("stage", "journey stage", "lifecycle stage")),
        "parent_external_id": ("Parent account (external id)", ("parent", "parent id", "parent external id", "parent account")),
    },
    ImportObject.USER: {
        "external_id": ("External id (key)", ("external id", "id", "user id", "user external id", "key")),
        "account_external_id": ("Account (external id)", ("account", "account id", "account external id", "company id", "customer id")),
        "email": ("Email", ("email", "e mail", "email address", "mail")),
        "name": ("Name", ("name", "full name", "user name", "display name")),
    },
    ImportObject.CONTACT: {
        "external_id": ("External id (key)", ("external id", "id", "contact id", "contact external id", "key")),
        "account_external_id": ("Account (external id)", ("account", "account id", "account external id", "company id", "customer id")),
        "name": ("Name", ("name", "full name", "contact name", "contact")),
        "email": ("Email", ("email", "e mail", "email address", "mail")),
        "phone": ("Phone", ("phone", "phone number", "telephone", "mobile")),
        "role": ("Role", ("role", "title", "job title", "position")),
        "is_key_contact": ("Key contact (yes/no)", ("key contact", "is key contact", "primary")),
    },
}
OBJECT_TYPES = {
    ImportObject.ACCOUNT: ObjectType.ACCOUNT,
    ImportObject.USER: ObjectType.USER,
    ImportObject.CONTACT: ObjectType.CONTACT,
}
# Built-in fields whose cells are yes/no (anything else is passed on, for the upsert to refuse).
BOOLEAN_FIELDS = {"is_key_contact"}
TRUE_WORDS, FALSE_WORDS = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}
NEW_PREFIX, ATTRIBUTE_PREFIX = "new.", "attributes."
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def key_for(header: str) -> str:
    """The attribute key a new attribute made from ``header`` gets: ``Seats bought`` → ``seats_bought``."""
    key = normalise(header).replace(" ", "_")[:63]
    if not key or not key[0].isalpha():
        key = ("c_" + key)[:63]
    return key


@dataclass
class Target:
    field: str
    label: str


class Fields:
    """The fields an import of ``object`` into ``workspace`` can fill, and who owns which."""

    def __init__(self, workspace, object: str):
        if object not in ImportObject.values:
            raise InvalidInput("object", f"must be one of {', '.join(ImportObject.values)}")
        self.workspace, self.object = workspace, object
        self.record: Record | None = record(object)
        if self.record is not None:
            # A record (usage, metric values, tasks …): its own fields, no attributes.
            self.built_in = self.record.fields
            self.definitions: dict[str, AttributeDefinition] = {}
            self.owners: dict[str, str] = {}
            return
        if object not in BUILT_IN:
            raise InvalidInput("object", f"{object!r} imports are not available")
        self.built_in = BUILT_IN[object]
        self.definitions = attribute_definitions(workspace, OBJECT_TYPES[object])
        self.owners = dict(
            FieldOwner.objects.filter(workspace=workspace, object=object).values_list("key", "source")
        )

    def missing(self, mapping: dict[str, str]) -> list[str]:
        """The required fields no column is mapped to (the key, for accounts and people)."""
        used = set(mapping.values())
        required = self.record.required if self.record is not None else ("external_id",)
        return [f for f in required if f not in used]

    def targets(self) -> list[Target]:
        out = [Target(f, label) for f, (label, _) in self.built_in.items()]
        out += [Target(ATTRIBUTE_PREFIX + d.key, f"{d.label} (attribute)") for d in self.definitions.values()]
        return out

    def label(self, field: str) -> str:
        if field in self.built_in:
            return self.built_in[field][0]
        if field.startswith(ATTRIBUTE_PREFIX):
            d = self.definitions.get(field[len(ATTRIBUTE_PREFIX):])
            return d.label if d else field
        if field.startswith(NEW_PREFIX):
            return f"New attribute “{field[len(NEW_PREFIX):]}”"
        return "Ignored"

    def suggest(self, headers: list[str]) -> dict[str, str]:
        """A field for each header whose name matches a field's words or an attribute's key or
        label; each field once (the first matching column wins)."""
        words: dict[str, str] = {}
        for field, (_, names) in self.built_in.items():
            for name in names:
                words.setdefault(name, field)
        for d in self.definitions.values():
            words.setdefault(normalise(d.key), ATTRIBUTE_PREFIX + d.key)
            words.setdefault(normalise(d.label), ATTRIBUTE_PREFIX + d.key)
        mapping, taken = {}, set()
        for header in headers:
            field = words.get(normalise(header), "")
            if field and field not in taken:
                mapping[header] = field
                taken.add(field)
            else:
                mapping[header] = ""
        return mapping

    def check(self, mapping, headers: list[str], unknown: str) -> dict[str, str]:
        """The mapping completed for every header (unknown columns resolved), or InvalidInput
        naming ``mapping`` and the problem."""
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str | None) for k, v in mapping.items()
        ):
            raise InvalidInput("mapping", "expected an object of column name → field")
        if unknown not in UnknownColumns.values:
            raise InvalidInput("unknown_columns", f"must be one of {', '.join(UnknownColumns.values)}")
        missing = [c for c in mapping if c not in headers]
        if missing:
            raise InvalidInput("mapping", f"names columns the file does not have: {', '.join(map(repr, missing))}")
        full: dict[str, str] = {}
        for header in headers:
            if header in mapping:
                field = mapping[header] or ""
            elif unknown == UnknownColumns.CREATE and self.record is None:
                key = key_for(header)
                field = ATTRIBUTE_PREFIX + key if key in self.definitions else NEW_PREFIX + key
            else:
                field = ""
            full[header] = self._check_field(header, field)
        used: dict[str, str] = {}
        for header, field in full.items():
            if not field:
                continue
            if field in used:
                raise InvalidInput("mapping", f"columns {used[field]!r} and {header!r} both map to {field!r}")
            used[field] = header
        if self.record is not None:
            missing = self.missing(full)
            if missing:
                names = ", ".join(f"{self.label(f)} ({f})" for f in missing)
                raise InvalidInput("mapping", f"no column is mapped to {names}: {'it is' if len(missing) == 1 else 'they are'} required")
            return full
        if "external_id" not in used:
            raise InvalidInput("mapping", "no column is mapped to external_id: choose the key column")
        return full

    def _check_field(self, header: str, field: str) -> str:
        if not field or field in self.built_in:
            return field
        if self.record is not None:
            raise InvalidInput(
                "mapping", f"column {header!r}: unknown field {field!r} ({self.object} rows have no attributes)"
            )
        if field.startswith(ATTRIBUTE_PREFIX):
            if field[len(ATTRIBUTE_PREFIX):] not in self.definitions:
                raise InvalidInput("mapping", f"column {header!r}: no attribute {field[len(ATTRIBUTE_PREFIX):]!r} is defined")
            return field
        if field.startswith(NEW_PREFIX):
            key = field[len(NEW_PREFIX):]
            if not KEY_RE.match(key):
                raise InvalidInput("mapping", f"column {header!r}: {key!r} is not a valid attribute key")
            return ATTRIBUTE_PREFIX + key if key in self.definitions else field
        raise InvalidInput("mapping", f"column {header!r}: unknown field {field!r}")

    def blocked(self, mapping: dict[str, str], source: str) -> dict[str, str]:
        """Columns that will not be written because another source owns their attribute:
        header → owner."""
        out = {}
        for header, field in mapping.items():
            for prefix in (ATTRIBUTE_PREFIX, NEW_PREFIX):
                if field.startswith(prefix):
                    owner = self.owners.get(field[len(prefix):])
                    if owner and owner != source:
                        out[header] = owner
        return out


class RowMapper:
    """Turns rows into bulk-upsert items with a fixed, checked mapping."""

    def __init__(
        self, headers: list[str], mapping: dict[str, str], blocked: dict[str, str], record: Record | None = None
    ):
        self.width = len(headers)
        self.record = record
        self.plan = []  # (position, field or attribute key, is attribute)
        for position, header in enumerate(headers):
            field = mapping.get(header, "")
            if not field or header in blocked:
                continue
            for prefix in (ATTRIBUTE_PREFIX, NEW_PREFIX):
                if field.startswith(prefix):
                    self.plan.append((position, field[len(prefix):], True))
                    break
            else:
                self.plan.append((position, field, False))
        if record is not None:
            where = {f: p for p, f, _ in self.plan}
            self.key_positions = [where.get(f) for f in record.key]
            self.key_position = -1
            self.row_key = record.key_of or record.row_key
        else:
            self.key_position = next(p for p, f, attr in self.plan if f == "external_id" and not attr)

    def shape_problem(self, cells: list[str]) -> str | None:
        """Why a row's cells do not line up with the header (trailing empty cells are fine)."""
        length = len(cells)
        while length > self.width and not cells[length - 1].strip():
            length -= 1
        if length != self.width:
            return f"has {length} cells but the header has {self.width} columns (a missing or extra delimiter?)"
        return None

    def key(self, cells: list[str]) -> str:
        if self.record is not None:
            width = len(cells)
            return self.row_key([cells[p] if p is not None and p < width else "" for p in self.key_positions])
        return cells[self.key_position] if self.key_position < len(cells) else ""

    def item(self, cells: list[str]) -> dict:
        if self.record is not None:
            # Every mapped cell as text, blanks too: the record's write says what a blank means.
            width = len(cells)
            return {name: cells[p] if p < width else "" for p, name, _ in self.plan}
        item: dict = {}
        attributes: dict = {}
        for position, name, is_attribute in self.plan:
            value = cells[position] if position < len(cells) else ""
            if name == "external_id":
                item[name] = value
                continue
            value = value.strip()
            if value == "":
                continue  # a blank cell keeps what is stored
            if is_attribute:
                attributes[name] = value
            elif name in BOOLEAN_FIELDS and value.lower() in TRUE_WORDS | FALSE_WORDS:
                item[name] = value.lower() in TRUE_WORDS
            else:
                item[name] = value
        if attributes:
            item["attributes"] = attributes
        return item
