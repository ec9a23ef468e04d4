"""Inline editing of one attribute on the profile.

With htmx the row swaps between its value and a small form; without JavaScript the Edit
link opens the same form as a page and a save redirects back to the profile. A value the
action refuses is answered with 422 and the form again, the action's message beside the
field, and nothing saved.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from tend.accounts import attributes
from tend.accounts.actions.accounts import can_edit_account, update_account
from tend.accounts.forms import AttributeValueForm, attribute_initial
from tend.accounts.models import AttributeDefinition, ObjectType
from tend.accounts.views.accounts.common import account_for, editable_account_for, member_required
from tend.lib.errors import InvalidInput
from tend.workspaces.access import READ, get_for


def definition_for(request, attribute_id: int) -> AttributeDefinition:
    """An account attribute of the actor's workspace; end-user and contact attributes are 404."""
    accounts_only = AttributeDefinition.objects.filter(object_type=ObjectType.ACCOUNT)
    return get_for(request.actor, accounts_only, READ, pk=attribute_id)


def row_context(request, account, definition) -> dict:
    value = (account.attributes or {}).get(definition.key)
    return {
        "account": account,
        "row": {
            "definition": definition,
            "value": value,
            "display": attributes.display(definition, value),
        },
        "can_edit": can_edit_account(request.actor, account),
    }


def render_form(request, account, definition, form, status=200):
    context = {"account": account, "definition": definition, "form": form}
    template = "accounts/_attribute_form.html" if request.htmx else "accounts/attribute_edit.html"
    return render(request, template, context, status=status)


@member_required
@require_GET
def attribute_edit(request, account_id: int, attribute_id: int):
    account = editable_account_for(request, account_id)
    definition = definition_for(request, attribute_id)
    value = (account.attributes or {}).get(definition.key)
    form = AttributeValueForm(
        definition=definition, initial={"value": attribute_initial(definition, value)}
    )
    return render_form(request, account, definition, form)


@member_required
@require_http_methods(["GET", "POST"])
def attribute_value(request, account_id: int, attribute_id: int):
    """GET: the row showing the value (Cancel). POST: save a new value."""
    if request.method == "GET":
        account = account_for(request, account_id)
        definition = definition_for(request, attribute_id)
        return render(
            request, "accounts/_attribute_row.html", row_context(request, account, definition)
        )

    account = editable_account_for(request, account_id)
    definition = definition_for(request, attribute_id)
    form = AttributeValueForm(request.POST, definition=definition)
    if not form.is_valid():
        return render_form(request, account, definition, form, status=422)
    try:
        account = update_account(
            request.actor, account, {"attributes": {definition.key: form.value()}}
        )
    except InvalidInput as exc:
        message = (
            exc.message
            if exc.field == f"attributes.{definition.key}"
            else f"{exc.field}: {exc.message}"
        )
        form.add_error("value", message)
        return render_form(request, account, definition, form, status=422)
    if request.htmx:
        context = {**row_context(request, account, definition), "just_saved": True}
        return render(request, "accounts/_attribute_row.html", context)
    messages.success(request, f"{definition.label} saved.")
    return redirect("accounts:profile", account_id=account.pk)
