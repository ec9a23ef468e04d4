"""Assignment roles: the roles people hold on an account."""

from functools import partial

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from tend.accounts.actions import definitions as actions
from tend.accounts.models import AssignmentRole
from tend.accounts.views.data_model.pages import (
    page_of,
    render_confirm_delete,
    render_edit,
    render_form_page,
    saved,
)
from tend.workspaces.access import ADMIN, get_for
from tend.workspaces.views import member_page


class RoleForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="e.g. “Implementation Lead”.")
    key = forms.CharField(
        max_length=63, help_text="Used by the API: lower-case letters, digits and _."
    )


@member_page
@require_http_methods(["GET", "POST"])
def roles(request):
    actor = request.actor
    form = RoleForm(request.POST or None)
    if request.method == "POST":
        actor.require(ADMIN)
        create = partial(actions.create_role, actor)
        if saved(request, form, create, "Role “{obj.name}” added."):
            return redirect(request.path)
    queryset = (
        AssignmentRole.objects.filter(workspace=actor.workspace)
        .annotate(assignment_count=Count("assignments"))
        .order_by("position", "id")
    )
    return render_form_page(request, "roles.html", "roles", form, page=page_of(request, queryset))


@member_page
@require_http_methods(["GET", "POST"])
def role_edit(request, role_id: int):
    role = get_for(request.actor, AssignmentRole, ADMIN, pk=role_id)
    form = RoleForm(request.POST or None, initial={"name": role.name, "key": role.key})
    update = partial(actions.update_role, request.actor, role)
    if request.method == "POST" and saved(request, form, update, "Role “{obj.name}” saved."):
        return redirect("data_model:roles")
    return render_edit(request, "roles", form, title=f"Edit role “{role.name}”")


@member_page
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
    return render_confirm_delete(
        request, "roles", thing=f"the role “{role.name}”", consequence=consequence
    )
