"""What every data model page shares: the tabs, the save-or-show-the-error step, rendering."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse

from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, WRITE

PAGE_SIZE = 50
TABS = [
    ("account", "Account attributes"),
    ("user", "End-user attributes"),
    ("contact", "Contact attributes"),
    ("stages", "Journey stages"),
    ("roles", "Assignment roles"),
    ("tags", "Tags"),
]


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


def saved(request, form: forms.Form, save, success: str) -> bool:
    """Validate ``form`` and call ``save(cleaned_data)``; flash ``success`` (formatted with
    ``obj``, what ``save`` returned) and return True, or put the action's error on the form."""
    if not form.is_valid():
        return False
    try:
        obj = save(form.cleaned_data)
    except InvalidInput as error:
        show_error(form, error)
        return False
    messages.success(request, success.format(obj=obj))
    return True


def render_form_page(request, template: str, tab: str, form: forms.Form, **extra):
    """A page holding ``form``: 422 when it carries errors, so htmx and tests can tell."""
    context = tab_context(request, tab, form=form, **extra)
    return render(
        request, f"accounts/data_model/{template}", context, status=422 if form.errors else 200
    )


def render_edit(request, tab: str, form: forms.Form, title: str):
    """The edit page of a stage, role or tag; Cancel goes back to the tab's list."""
    back = reverse(f"data_model:{tab}")
    return render_form_page(request, "edit.html", tab, form, title=title, back=back)


def render_confirm_delete(request, tab: str, thing: str, consequence: str, back: str = ""):
    context = tab_context(
        request,
        tab,
        thing=thing,
        consequence=consequence,
        back=back or reverse(f"data_model:{tab}"),
    )
    return render(request, "accounts/data_model/confirm_delete.html", context)
