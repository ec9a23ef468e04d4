"""Attribute definitions: one tab per object type (accounts, end users, contacts)."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from tend.accounts.actions import definitions as actions
from tend.accounts.models import AttributeDefinition, AttributeType, ObjectType
from tend.accounts.views.data_model.pages import (
    page_of,
    render_confirm_delete,
    render_form_page,
    saved,
)
from tend.workspaces.access import ADMIN, get_for
from tend.workspaces.views import member_page


class AttributeForm(forms.Form):
    """Parses only: the actions validate."""

    label = forms.CharField(max_length=120, help_text="What people see, e.g. “Renewal date”.")
    key = forms.CharField(
        max_length=63,
        help_text="Used by the API and imports: lower-case letters, digits and _. Cannot change later.",
    )
    type = forms.ChoiceField(choices=AttributeType.choices)
    options = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For list types: one option per line.",
    )
    required = forms.BooleanField(required=False, help_text="Every record must have a value.")
    description = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["key"].disabled = True
            self.fields["key"].help_text = "Used by the API and imports; fixed once created."

    def data_for_action(self) -> dict:
        data = dict(self.cleaned_data)
        data["options"] = [line.strip() for line in data["options"].splitlines() if line.strip()]
        if self.fields["key"].disabled:
            del data["key"]
        return data


@member_page
@require_http_methods(["GET", "POST"])
def index(request):
    return _attributes(request, ObjectType.ACCOUNT)


@member_page
@require_http_methods(["GET", "POST"])
def attributes(request, object_type: str):
    return _attributes(request, object_type)


def _attributes(request, object_type: str):
    actor = request.actor
    initial = {"type": AttributeType.TEXT}
    # Links from Data → Ingestion prefill a trait that clients already send.
    initial.update({name: request.GET[name][:120] for name in ("key", "label") if request.GET.get(name)})
    form = AttributeForm(request.POST or None, initial=initial)
    if request.method == "POST":
        actor.require(ADMIN)

        def create(data):
            # The form's own parse (options split into lines), plus the tab's object type.
            return actions.create_attribute(
                actor, {**form.data_for_action(), "object_type": object_type}
            )

        if saved(request, form, create, "Attribute “{obj.label}” added."):
            return redirect(request.path)
    queryset = AttributeDefinition.objects.filter(
        workspace=actor.workspace, object_type=object_type
    )
    return render_form_page(
        request,
        "attributes.html",
        object_type,
        form,
        page=page_of(request, queryset),
        object_label=dict(ObjectType.choices)[object_type].lower(),
        object_type=object_type,
    )


def _definition(request, attribute_id: int) -> AttributeDefinition:
    return get_for(request.actor, AttributeDefinition, ADMIN, pk=attribute_id)


def _attributes_url(definition: AttributeDefinition) -> str:
    if definition.object_type == ObjectType.ACCOUNT:
        return reverse("data_model:index")
    return reverse("data_model:attributes", kwargs={"object_type": definition.object_type})


@member_page
@require_http_methods(["GET", "POST"])
def attribute_edit(request, attribute_id: int):
    definition = _definition(request, attribute_id)
    initial = {
        "label": definition.label,
        "key": definition.key,
        "type": definition.type,
        "options": "\n".join(definition.options or []),
        "required": definition.required,
        "description": definition.description,
    }
    form = AttributeForm(request.POST or None, initial=initial, editing=True)

    def update(data):
        return actions.update_attribute(request.actor, definition, form.data_for_action())

    if request.method == "POST" and saved(request, form, update, "Attribute “{obj.label}” saved."):
        return redirect(_attributes_url(definition))
    return render_form_page(
        request,
        "attribute_edit.html",
        definition.object_type,
        form,
        definition=definition,
        back=_attributes_url(definition),
    )


@member_page
@require_http_methods(["GET", "POST"])
def attribute_delete(request, attribute_id: int):
    definition = _definition(request, attribute_id)
    back = _attributes_url(definition)
    if request.method == "POST":
        removed = actions.delete_attribute(request.actor, definition)
        messages.success(
            request, f"Attribute “{definition.label}” deleted; {removed} stored values removed."
        )
        return redirect(back)
    count = actions.count_values(request.actor, definition)
    noun = actions.OBJECT_NOUNS[definition.object_type]
    consequence = (
        f"{actions.plural(count, noun)} {'has a value' if count == 1 else 'have values'} for it: "
        f"{'that value' if count == 1 else 'all those values'} will be removed."
        if count
        else f"No {noun} has a value for it yet."
    )
    return render_confirm_delete(
        request,
        definition.object_type,
        thing=f"the attribute “{definition.label}” ({definition.key})",
        consequence=consequence,
        back=back,
    )
