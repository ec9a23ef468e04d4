"""Creating, editing and deleting an account: forms that call the account actions."""

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tend.accounts.actions.accounts import (
    attribute_definitions,
    create_account,
    delete_account,
    update_account,
)
from tend.accounts.forms import (
    AccountCreateForm,
    AccountEditForm,
    add_invalid_input,
    members_of,
    tag_names,
)
from tend.accounts.models import Account, AssignmentRole, Tag
from tend.accounts.views.accounts.common import account_for, editable_account_for, member_required
from tend.lib.errors import InvalidInput
from tend.workspaces.access import WRITE


@member_required
@require_http_methods(["GET", "POST"])
def account_create(request):
    actor = request.actor
    actor.require(WRITE)
    required = [d for d in attribute_definitions(actor.workspace).values() if d.required]
    required.sort(key=lambda d: (d.position, d.label))
    form = AccountCreateForm(
        request.POST if request.method == "POST" else None,
        workspace=actor.workspace,
        required_definitions=required,
        initial={"status": "trial"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            account = create_account(actor, form.account_data())
        except InvalidInput as exc:
            add_invalid_input(form, exc, form.error_fields())
        else:
            messages.success(request, f"Account {account.name} created.")
            return redirect("accounts:profile", account_id=account.pk)
    status = 422 if form.is_bound else 200
    return render(request, "accounts/new.html", {"form": form}, status=status)


@member_required
@require_http_methods(["GET", "POST"])
def account_edit(request, account_id: int):
    actor = request.actor
    queryset = Account.objects.select_related("parent", "stage").prefetch_related(
        "assignments", Prefetch("tags", queryset=Tag.objects.order_by("name"))
    )
    account = editable_account_for(request, account_id, queryset)
    roles = list(AssignmentRole.objects.filter(workspace=actor.workspace))
    form = AccountEditForm(
        request.POST if request.method == "POST" else None,
        workspace=actor.workspace,
        roles=roles,
        members=members_of(actor.workspace),
        initial=AccountEditForm.initial_for(account, roles),
    )
    if request.method == "POST" and form.is_valid():
        try:
            account = update_account(actor, account, form.account_data())
        except InvalidInput as exc:
            add_invalid_input(form, exc, form.error_fields())
        else:
            messages.success(request, f"Account {account.name} saved.")
            return redirect("accounts:profile", account_id=account.pk)
    context = {"account": account, "form": form, "tag_names": tag_names(actor.workspace)}
    return render(request, "accounts/edit.html", context, status=422 if form.is_bound else 200)


@member_required
@require_http_methods(["GET", "POST"])
def account_delete(request, account_id: int):
    actor = request.actor
    account = account_for(request, account_id)
    actor.require(WRITE)
    if request.method == "POST":
        name = account.name
        delete_account(actor, account)
        messages.success(request, f"Account {name} deleted.")
        return redirect("accounts:list")
    context = {
        "account": account,
        "children_count": account.children.count(),
        "end_users_count": account.end_users.count(),
        "contacts_count": account.contacts.count(),
    }
    return render(request, "accounts/delete.html", context)
