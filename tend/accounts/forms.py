"""Forms of the accounts pages. They parse and show errors; the actions decide what is valid.

Values are left loose on purpose (text for numbers and dates, free text for enums) so that a
bad value reaches the action and the person sees the same message the API would give.
"""

from django import forms

from tend.accounts.extensions import list_columns, list_filters
from tend.accounts.models import AccountStatus, AssignmentRole, AttributeType, Stage, Tag
from tend.accounts.queries import DEFAULT_SORT, NONE, AccountFilters
from tend.lib.errors import InvalidInput
from tend.workspaces.models import Member, Workspace


def members_of(workspace: Workspace):
    return Member.objects.filter(workspace=workspace, is_active=True).select_related("user")


SORT_CHOICES = [
    ("name", "Name A → Z"),
    ("-name", "Name Z → A"),
    ("status", "Status"),
    ("-status", "Status, reversed"),
    ("stage", "Stage"),
    ("-stage", "Stage, reversed"),
    ("-updated", "Recently updated"),
    ("updated", "Least recently updated"),
    ("-created", "Newest first"),
    ("created", "Oldest first"),
]


def sort_choices() -> list[tuple[str, str]]:
    """The Sort menu: the built-in orders, then both orders of each column other apps add."""
    choices = list(SORT_CHOICES)
    for column in list_columns():
        if not column.order:
            continue
        ascending, descending = column.sort_labels
        pair = [(column.key, ascending or f"{column.label}, lowest first"),
                (f"-{column.key}", descending or f"{column.label}, highest first")]
        choices.extend(reversed(pair) if column.descending_first else pair)
    return choices


class AccountFilterForm(forms.Form):
    """The list's query string. A value that names nothing of this workspace is ignored."""

    q = forms.CharField(required=False, max_length=200, label="Search")
    status = forms.ChoiceField(required=False, label="Status")
    stage = forms.ChoiceField(required=False, label="Stage")
    owner = forms.ChoiceField(required=False, label="Owner")
    role = forms.ChoiceField(required=False, label="As")
    tag = forms.ChoiceField(required=False, label="Tag")
    # The condition, as JSON text; the list view checks it against the workspace's fields.
    where = forms.CharField(required=False, widget=forms.HiddenInput, strip=True)
    sort = forms.ChoiceField(required=False, label="Sort")

    def __init__(self, data, *, workspace: Workspace, stages, roles, members, tags):
        super().__init__(data)
        self.fields["q"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": "Name or external id", "autocomplete": "off"}
        )
        self.fields["status"].choices = [("", "Any status"), *AccountStatus.choices]
        self.fields["stage"].choices = [
            ("", "Any stage"),
            *[(str(s.pk), s.name) for s in stages],
            (NONE, "No stage"),
        ]
        self.fields["owner"].choices = [
            ("", "Anyone"),
            *[(str(m.pk), m.name) for m in members],
            (NONE, "Unassigned"),
        ]
        self.fields["role"].choices = [("", "Any role"), *[(str(r.pk), r.name) for r in roles]]
        self.fields["tag"].choices = [("", "Any tag"), *[(str(t.pk), t.name) for t in tags]]
        # The filters other apps add go between the list's own filters and the sort.
        sort = self.fields.pop("sort")
        self.extra_filters = []
        for list_filter in list_filters():
            raw = data.get(list_filter.key, "") if data is not None else ""
            field = list_filter.field(workspace, raw if isinstance(raw, str) else "")
            if field is not None:
                field.required = False
                self.fields[list_filter.key] = field
                self.extra_filters.append(list_filter.key)
        self.fields["sort"] = sort
        sort.choices = sort_choices()

    def filters(self) -> AccountFilters:
        self.is_valid()
        values = {
            name: self.cleaned_data.get(name) or ""
            for name in self.fields
            if name not in self.errors and name not in self.extra_filters
        }
        values["q"] = values.get("q", "").strip()
        values["sort"] = values.get("sort") or DEFAULT_SORT
        values["extra"] = tuple(
            (key, self.cleaned_data[key])
            for key in self.extra_filters
            if key not in self.errors and self.cleaned_data.get(key) not in (None, "")
        )
        return AccountFilters(**values)


def stage_choices(workspace: Workspace) -> list[tuple[str, str]]:
    return [
        ("", "— No stage —"),
        *[(str(s.pk), s.name) for s in Stage.objects.filter(workspace=workspace)],
    ]


def add_invalid_input(
    form: forms.Form, exc: InvalidInput, fields: dict[str, str] | None = None
) -> None:
    """Show an action's error beside the form field it names, or above the form."""
    name = (fields or {}).get(exc.field, exc.field)
    if name in form.fields:
        form.add_error(name, exc.message)
    else:
        form.add_error(None, f"{exc.field}: {exc.message}")


class AccountFieldsForm(forms.Form):
    """The fields an account is created with and edited through."""

    name = forms.CharField(max_length=255)
    external_id = forms.CharField(
        max_length=255,
        strip=False,
        label="External id",
        help_text="The key imports and the API use. Case-sensitive.",
    )
    status = forms.ChoiceField(choices=AccountStatus.choices)
    stage = forms.ChoiceField(required=False, label="Journey stage")
    parent_external_id = forms.CharField(
        required=False,
        max_length=255,
        label="Parent account",
        help_text="The parent's external id, if any.",
    )

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.fields["stage"].choices = stage_choices(workspace)

    def account_data(self) -> dict:
        data = {
            "name": self.cleaned_data["name"],
            "external_id": self.cleaned_data["external_id"],
            "status": self.cleaned_data["status"],
            "parent_external_id": self.cleaned_data["parent_external_id"].strip() or None,
            "stage": None,
        }
        if self.cleaned_data["stage"]:
            data["stage"] = Stage.objects.get(
                workspace=self.workspace, pk=self.cleaned_data["stage"]
            )
        return data


class AccountCreateForm(AccountFieldsForm):
    """A new account; attributes the data model marks as required are asked for too."""

    def __init__(self, *args, workspace: Workspace, required_definitions=(), **kwargs):
        super().__init__(*args, workspace=workspace, **kwargs)
        self.attribute_keys = {}
        for definition in required_definitions:
            name = f"attr_{definition.key}"
            self.fields[name] = attribute_field(definition)
            self.attribute_keys[name] = definition.key

    def account_data(self) -> dict:
        data = super().account_data()
        attributes = {
            key: normalise(self.cleaned_data.get(name)) for name, key in self.attribute_keys.items()
        }
        if attributes:
            data["attributes"] = attributes
        return data

    def error_fields(self) -> dict[str, str]:
        return {f"attributes.{key}": name for name, key in self.attribute_keys.items()}


class AccountEditForm(AccountFieldsForm):
    """Name, key, status, stage, parent, tags and one owner per assignment role."""

    tags = forms.CharField(
        required=False,
        max_length=2000,
        help_text="Separate tags with commas; new tags are created.",
    )

    def __init__(self, *args, workspace: Workspace, roles, members, **kwargs):
        super().__init__(*args, workspace=workspace, **kwargs)
        self.roles = {}
        self.members = {str(m.pk): m for m in members}
        member_choices = [("", "— Nobody —"), *[(pk, m.name) for pk, m in self.members.items()]]
        for role in roles:
            name = f"role_{role.pk}"
            self.fields[name] = forms.ChoiceField(
                required=False, label=role.name, choices=member_choices
            )
            self.roles[name] = role
        self.fields["tags"].widget.attrs["list"] = "tag-names"

    @property
    def role_fields(self):
        return [self[name] for name in self.roles]

    @property
    def detail_fields(self):
        return [
            self[name]
            for name in ("name", "external_id", "status", "stage", "parent_external_id", "tags")
        ]

    def account_data(self) -> dict:
        data = super().account_data()
        data["tags"] = [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]
        data["assignments"] = {
            role.key: self.members[self.cleaned_data[name]].user.email
            if self.cleaned_data[name]
            else None
            for name, role in self.roles.items()
        }
        return data

    def error_fields(self) -> dict[str, str]:
        return {f"assignments.{role.key}": name for name, role in self.roles.items()}

    @staticmethod
    def initial_for(account, roles: list[AssignmentRole]) -> dict:
        held = {a.role_id: str(a.member_id) for a in account.assignments.all()}
        initial = {
            "name": account.name,
            "external_id": account.external_id,
            "status": account.status,
            "stage": str(account.stage_id or ""),
            "parent_external_id": account.parent.external_id if account.parent_id else "",
            "tags": ", ".join(t.name for t in account.tags.all()),
        }
        for role in roles:
            initial[f"role_{role.pk}"] = held.get(role.pk, "")
        return initial


def tag_names(workspace: Workspace) -> list[str]:
    return list(Tag.objects.filter(workspace=workspace).values_list("name", flat=True)[:500])


# --- Attribute values ----------------------------------------------------------------------


def attribute_field(definition) -> forms.Field:
    """A form field of the right input type for one attribute; the action checks the value."""
    kind = definition.type
    common = {"required": False, "label": definition.label, "help_text": definition.description}
    if kind == AttributeType.BOOLEAN:
        return forms.BooleanField(**common)
    if kind == AttributeType.ENUM:
        options = [("", "— Not set —"), *[(o, o) for o in definition.options or []]]
        return forms.CharField(widget=forms.Select(choices=options), **common)
    if kind == AttributeType.MULTI_ENUM:
        options = [(o, o) for o in definition.options or []]
        return forms.Field(widget=forms.CheckboxSelectMultiple(choices=options), **common)
    widget = {
        AttributeType.NUMBER: forms.NumberInput(attrs={"step": "any"}),
        AttributeType.CURRENCY: forms.NumberInput(attrs={"step": "any"}),
        AttributeType.DATE: forms.DateInput(attrs={"type": "date"}),
        AttributeType.URL: forms.URLInput(attrs={"placeholder": "https://"}),
    }.get(kind, forms.TextInput())
    return forms.CharField(widget=widget, max_length=10_000, **common)


def attribute_initial(definition, value):
    if value is None:
        return [] if definition.type == AttributeType.MULTI_ENUM else ""
    if definition.type == AttributeType.MULTI_ENUM:
        return list(value) if isinstance(value, list) else [value]
    if definition.type == AttributeType.BOOLEAN:
        return bool(value)
    return value


def normalise(value):
    """An emptied multi-select unsets the attribute rather than storing an empty list."""
    if value in ([], ()):
        return None
    return value


class AttributeValueForm(forms.Form):
    """One attribute of one account, edited inline on the profile."""

    def __init__(self, *args, definition, **kwargs):
        super().__init__(*args, **kwargs)
        self.definition = definition
        field = attribute_field(definition)
        field.widget.attrs.setdefault("id", f"attr-input-{definition.pk}")
        self.fields["value"] = field

    def value(self):
        return normalise(self.cleaned_data.get("value"))
