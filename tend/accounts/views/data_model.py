"""The data modeler's pages: attributes per object type, journey stages, roles and tags.

Every member reads them; admins change definitions (writers: tags). Lists and their create
forms share one URL: GET shows, POST creates and redirects, or answers 422 with the form.
"""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from tend.accounts.actions import definitions as actions
from tend.accounts.models import (
    AssignmentRole,
    AttributeDefinition,
    AttributeType,
    ObjectType,
    Stage,
    Tag,
)
from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, WRITE, get_for

PAGE_SIZE = 50
TABS = [
    ("account", "Account attributes"),
    ("user", "End-user attributes"),
    ("contact", "Contact attributes"),
    ("stages", "Journey stages"),
    ("roles", "Assignment roles"),
    ("tags", "Tags"),
]


def member_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        actor = getattr(request, "actor", None)
        if actor is None or actor.member is None:
            raise PermissionDenied("You are not a member of any workspace.")
        return view(request, *args, **kwargs)

    return wrapped


def show_error(form: forms.Form, error: InvalidInput) -> None:
    field = error.field.split(".")[0]
    form.add_error(field if field in form.fields else None, error.message)


def page_of(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def tab_context(request, tab: str, **extra) -> dict:
    return {
        "tabs": TABS,
        "tab": tab,
        "can_admin": request.actor.can(ADMIN),
        "can_write": request.actor.can(WRITE),
        **extra,
    }


# --- Forms (parse only: the actions validate) --------------------------------------------------


class AttributeForm(forms.Form):
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


class StageForm(forms.Form):
    name = forms.CharField(max_length=80)
    color = forms.CharField(
        max_length=7, required=False, widget=forms.TextInput(attrs={"type": "color"})
    )
    description = forms.CharField(max_length=300, required=False)


class RoleForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="e.g. “Implementation Lead”.")
    key = forms.CharField(
        max_length=63, help_text="Used by the API: lower-case letters, digits and _."
    )


class TagForm(forms.Form):
    name = forms.CharField(max_length=80)
    color = forms.CharField(
        max_length=7, required=False, widget=forms.TextInput(attrs={"type": "color"})
    )


def _create(request, form, create, success):
    """Validate ``form`` and call ``create(data)``; redirect on success, else return None."""
    if form.is_valid():
        try:
            obj = create(form.cleaned_data)
        except InvalidInput as error:
            show_error(form, error)
        else:
            messages.success(request, success.format(obj=obj))
            return redirect(request.path)
    return None


# --- Attributes -------------------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def index(request):
    return _attributes(request, ObjectType.ACCOUNT)


@member_required
@require_http_methods(["GET", "POST"])
def attributes(request, object_type: str):
    return _attributes(request, object_type)


def _attributes(request, object_type: str):
    actor = request.actor
    form = AttributeForm(request.POST or None, initial={"type": AttributeType.TEXT})
    if request.method == "POST":
        actor.require(ADMIN)
        done = _create(
            request,
            form,
            lambda data: actions.create_attribute(
                actor, {**form.data_for_action(), "object_type": object_type}
            ),
            "Attribute “{obj.label}” added.",
        )
        if done:
            return done
    queryset = AttributeDefinition.objects.filter(
        workspace=actor.workspace, object_type=object_type
    )
    context = tab_context(
        request,
        object_type,
        page=page_of(request, queryset),
        form=form,
        object_label=dict(ObjectType.choices)[object_type].lower(),
        object_type=object_type,
    )
    return render(
        request, "accounts/data_model/attributes.html", context, status=422 if form.errors else 200
    )


def _definition(request, attribute_id: int, right: str = ADMIN) -> AttributeDefinition:
    return get_for(request.actor, AttributeDefinition, right, pk=attribute_id)


def _attributes_url(definition: AttributeDefinition) -> str:
    if definition.object_type == ObjectType.ACCOUNT:
        return reverse("data_model:index")
    return reverse("data_model:attributes", kwargs={"object_type": definition.object_type})


@member_required
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
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_attribute(request.actor, definition, form.data_for_action())
        except InvalidInput as error:
            show_error(form, error)
        else:
            messages.success(request, f"Attribute “{form.cleaned_data['label']}” saved.")
            return redirect(_attributes_url(definition))
    context = tab_context(
        request,
        definition.object_type,
        definition=definition,
        form=form,
        back=_attributes_url(definition),
    )
    return render(
        request,
        "accounts/data_model/attribute_edit.html",
        context,
        status=422 if form.errors else 200,
    )


@member_required
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
    context = tab_context(
        request,
        definition.object_type,
        thing=f"the attribute “{definition.label}” ({definition.key})",
        consequence=consequence,
        back=back,
    )
    return render(request, "accounts/data_model/confirm_delete.html", context)


# --- Journey stages --------------------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def stages(request):
    actor = request.actor
    count = Stage.objects.filter(workspace=actor.workspace).count()
    form = StageForm(
        request.POST or None, initial={"color": actions.PALETTE[count % len(actions.PALETTE)]}
    )
    if request.method == "POST":
        actor.require(ADMIN)
        done = _create(
            request,
            form,
            lambda data: actions.create_stage(actor, data),
            "Stage “{obj.name}” added at the end.",
        )
        if done:
            return done
    queryset = (
        Stage.objects.filter(workspace=actor.workspace)
        .annotate(account_count=Count("accounts"))
        .order_by("position", "id")
    )
    page = page_of(request, queryset)
    context = tab_context(
        request, "stages", page=page, form=form, last_position=page.paginator.count - 1
    )
    return render(
        request, "accounts/data_model/stages.html", context, status=422 if form.errors else 200
    )


@member_required
@require_http_methods(["GET", "POST"])
def stage_edit(request, stage_id: int):
    stage = get_for(request.actor, Stage, ADMIN, pk=stage_id)
    form = StageForm(
        request.POST or None,
        initial={"name": stage.name, "color": stage.color, "description": stage.description},
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_stage(request.actor, stage, form.cleaned_data)
        except InvalidInput as error:
            show_error(form, error)
        else:
            messages.success(request, f"Stage “{stage.name}” saved.")
            return redirect("data_model:stages")
    context = tab_context(
        request,
        "stages",
        form=form,
        title=f"Edit stage “{stage.name}”",
        back=reverse("data_model:stages"),
    )
    return render(
        request, "accounts/data_model/edit.html", context, status=422 if form.errors else 200
    )


@member_required
@require_POST
def stage_move(request, stage_id: int):
    """Move a stage one place up or down (the buttons of the ordered list)."""
    stage = get_for(request.actor, Stage, ADMIN, pk=stage_id)
    step = {"up": -1, "down": 1}.get(request.POST.get("direction"))
    if step is None:
        messages.error(request, "Say whether to move the stage up or down.")
        return redirect("data_model:stages")
    try:
        actions.move_stage(request.actor, stage, stage.position + step)
    except InvalidInput as error:
        messages.error(request, f"“{stage.name}” {error.message}")
    return redirect("data_model:stages")


@member_required
@require_http_methods(["GET", "POST"])
def stage_delete(request, stage_id: int):
    stage = get_for(request.actor, Stage, ADMIN, pk=stage_id)
    if request.method == "POST":
        moved = actions.delete_stage(request.actor, stage)
        messages.success(
            request,
            f"Stage “{stage.name}” deleted; {actions.plural(moved, 'account')} now have no stage.",
        )
        return redirect("data_model:stages")
    count = stage.accounts.count()
    consequence = (
        f"{actions.plural(count, 'account')} {'is' if count == 1 else 'are'} in this stage and will be left with no stage."
        if count
        else "No account is in this stage."
    )
    context = tab_context(
        request,
        "stages",
        thing=f"the stage “{stage.name}”",
        consequence=consequence,
        back=reverse("data_model:stages"),
    )
    return render(request, "accounts/data_model/confirm_delete.html", context)


# --- Assignment roles --------------------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def roles(request):
    actor = request.actor
    form = RoleForm(request.POST or None)
    if request.method == "POST":
        actor.require(ADMIN)
        done = _create(
            request, form, lambda data: actions.create_role(actor, data), "Role “{obj.name}” added."
        )
        if done:
            return done
    queryset = (
        AssignmentRole.objects.filter(workspace=actor.workspace)
        .annotate(assignment_count=Count("assignments"))
        .order_by("position", "id")
    )
    context = tab_context(request, "roles", page=page_of(request, queryset), form=form)
    return render(
        request, "accounts/data_model/roles.html", context, status=422 if form.errors else 200
    )


@member_required
@require_http_methods(["GET", "POST"])
def role_edit(request, role_id: int):
    role = get_for(request.actor, AssignmentRole, ADMIN, pk=role_id)
    form = RoleForm(request.POST or None, initial={"name": role.name, "key": role.key})
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_role(request.actor, role, form.cleaned_data)
        except InvalidInput as error:
            show_error(form, error)
        else:
            messages.success(request, f"Role “{role.name}” saved.")
            return redirect("data_model:roles")
    context = tab_context(
        request,
        "roles",
        form=form,
        title=f"Edit role “{role.name}”",
        back=reverse("data_model:roles"),
    )
    return render(
        request, "accounts/data_model/edit.html", context, status=422 if form.errors else 200
    )


@member_required
@require_http_methods(["GET", "POST"])
def role_delete(request, role_id: int):
    role = get_for(request.actor, AssignmentRole, ADMIN, pk=role_id)
    if request.method == "POST":
        actions.delete_role(request.actor, role)
        messages.success(request, f"Role “{role.name}” deleted with its assignments.")
        return redirect("data_model:roles")
    count = role.assignments.count()
    consequence = (
        f"{actions.plural(count, 'account')} {'has' if count == 1 else 'have'} someone in this role: "
        f"{'that assignment' if count == 1 else 'those assignments'} will be removed."
        if count
        else "No account has anyone in this role."
    )
    context = tab_context(
        request,
        "roles",
        thing=f"the role “{role.name}”",
        consequence=consequence,
        back=reverse("data_model:roles"),
    )
    return render(request, "accounts/data_model/confirm_delete.html", context)


# --- Tags --------------------------------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def tags(request):
    actor = request.actor
    form = TagForm(request.POST or None, initial={"color": actions.DEFAULT_TAG_COLOR})
    if request.method == "POST":
        actor.require(WRITE)
        done = _create(
            request, form, lambda data: actions.create_tag(actor, data), "Tag “{obj.name}” added."
        )
        if done:
            return done
    queryset = (
        Tag.objects.filter(workspace=actor.workspace)
        .annotate(account_count=Count("accounts"))
        .order_by("name", "id")
    )
    context = tab_context(request, "tags", page=page_of(request, queryset), form=form)
    return render(
        request, "accounts/data_model/tags.html", context, status=422 if form.errors else 200
    )


@member_required
@require_http_methods(["GET", "POST"])
def tag_edit(request, tag_id: int):
    tag = get_for(request.actor, Tag, WRITE, pk=tag_id)
    form = TagForm(request.POST or None, initial={"name": tag.name, "color": tag.color})
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_tag(request.actor, tag, form.cleaned_data)
        except InvalidInput as error:
            show_error(form, error)
        else:
            messages.success(request, f"Tag “{tag.name}” saved.")
            return redirect("data_model:tags")
    context = tab_context(
        request,
        "tags",
        form=form,
        title=f"Rename tag “{tag.name}”",
        back=reverse("data_model:tags"),
    )
    return render(
        request, "accounts/data_model/edit.html", context, status=422 if form.errors else 200
    )


@member_required
@require_http_methods(["GET", "POST"])
def tag_delete(request, tag_id: int):
    tag = get_for(request.actor, Tag, WRITE, pk=tag_id)
    if request.method == "POST":
        actions.delete_tag(request.actor, tag)
        messages.success(request, f"Tag “{tag.name}” deleted.")
        return redirect("data_model:tags")
    count = tag.accounts.count()
    consequence = (
        f"{actions.plural(count, 'account')} {'carries' if count == 1 else 'carry'} this tag and will lose it."
        if count
        else "No account carries this tag."
    )
    context = tab_context(
        request,
        "tags",
        thing=f"the tag “{tag.name}”",
        consequence=consequence,
        back=reverse("data_model:tags"),
    )
    return render(request, "accounts/data_model/confirm_delete.html", context)
