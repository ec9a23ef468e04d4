"""The accounts list's attribute filter: accounts whose one-of-a-list, yes/no or text attribute
holds a value, or holds none.

It is an ordinary :class:`~tend.accounts.extensions.ListFilter`, registered from
``AccountsConfig.ready`` like the filters of upper apps. Its query-string form is
``attr=<key>:<value>`` (``attr=plan:Gold``); ``attr=<key>:`` keeps the accounts without a
value, and yes/no attributes take ``true`` or ``false``. The menu offers every value of the
one-of-a-list and yes/no attributes; a text value arrives from a link (the health dashboard's
breakdown) and is offered while it is in the address.
"""

from dataclasses import dataclass

from django import forms
from django.db.models import Q
from django.db.models.fields.json import KeyTransform

from tend.accounts.extensions import ListFilter, add_list_filter
from tend.accounts.models import AttributeDefinition, AttributeType, ObjectType

KEY = "attr"
# Types whose values can be told apart by equality; the menu lists the first two.
MENU_TYPES = (AttributeType.ENUM, AttributeType.BOOLEAN)
FILTERABLE_TYPES = (*MENU_TYPES, AttributeType.TEXT)
ALIAS = "filtered_attribute"


@dataclass(frozen=True)
class AttributeValue:
    """A parsed filter value: the attribute and the stored value wanted (None: no value)."""

    key: str
    label: str
    type: str
    value: str | bool | None

    def __str__(self) -> str:
        if self.value is None:
            return f"{self.key}:"
        if isinstance(self.value, bool):
            return f"{self.key}:{'true' if self.value else 'false'}"
        return f"{self.key}:{self.value}"

    @property
    def text(self) -> str:
        """How the value reads in the menu: ``Plan: Gold``, ``Plan: no value``."""
        if self.value is None:
            shown = "no value"
        elif isinstance(self.value, bool):
            shown = "yes" if self.value else "no"
        else:
            shown = self.value
        return f"{self.label}: {shown}"


def parse(raw: str, definitions: dict[str, AttributeDefinition]) -> AttributeValue | None:
    """``key:value`` as an :class:`AttributeValue` of a filterable attribute, else None."""
    key, colon, text = (raw or "").partition(":")
    definition = definitions.get(key)
    if not colon or definition is None:
        return None
    value: str | bool | None = text or None
    if definition.type == AttributeType.BOOLEAN and value is not None:
        if text not in ("true", "false"):
            return None
        value = text == "true"
    return AttributeValue(key, definition.label, definition.type, value)


class AttributeValueField(forms.ChoiceField):
    """A menu of attribute values whose cleaned value is an :class:`AttributeValue`."""

    def __init__(self, definitions: dict[str, AttributeDefinition], current: str, **kwargs):
        self.definitions = definitions
        super().__init__(choices=self._choices(current), **kwargs)

    def _choices(self, current: str) -> list:
        groups = []
        for definition in self.definitions.values():
            if definition.type not in MENU_TYPES:
                continue
            values = (
                [True, False]
                if definition.type == AttributeType.BOOLEAN
                else list(definition.options or [])
            )
            items = [
                AttributeValue(definition.key, definition.label, definition.type, v)
                for v in [*values, None]
            ]
            groups.append((definition.label, [(str(item), item.text) for item in items]))
        chosen = parse(current, self.definitions)
        offered = {key for _label, items in groups for key, _text in items}
        if chosen is not None and str(chosen) not in offered:
            groups.append((chosen.label, [(str(chosen), chosen.text)]))
        return [("", "Any attribute"), *groups]

    def to_python(self, value):
        if value in self.empty_values:
            return ""
        parsed = parse(str(value), self.definitions)
        if parsed is None:
            raise forms.ValidationError(
                "Choose an attribute value from the list.", code="invalid_choice"
            )
        return parsed


def attribute_field(workspace, current: str) -> forms.Field | None:
    definitions = {
        d.key: d
        for d in AttributeDefinition.objects.filter(
            workspace=workspace, object_type=ObjectType.ACCOUNT, type__in=FILTERABLE_TYPES
        ).order_by("position", "label", "id")
    }
    if not any(d.type in MENU_TYPES for d in definitions.values()) and not current:
        return None
    return AttributeValueField(definitions, current, required=False, label="Attribute")


def apply_attribute(queryset, value: AttributeValue):
    queryset = queryset.alias(**{ALIAS: KeyTransform(value.key, "attributes")})
    if value.value is None:
        # No key at all, or a JSON null stored under it.
        return queryset.filter(Q(**{f"{ALIAS}__isnull": True}) | Q(**{ALIAS: None}))
    return queryset.filter(**{ALIAS: value.value})


def attribute_clauses(value: AttributeValue) -> list[dict]:
    field = f"attributes.{value.key}"
    if value.value is None:
        return [{"field": field, "op": "is_not_set"}]
    return [{"field": field, "op": "eq", "value": value.value}]


def register() -> None:
    """Called from ``AccountsConfig.ready``."""
    add_list_filter(
        ListFilter(
            key=KEY,
            field=attribute_field,
            apply=apply_attribute,
            position=90,
            clauses=attribute_clauses,
        )
    )
