"""Journey stages: an ordered list, moved one place at a time with the arrow buttons."""

from functools import partial

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from tend.accounts.actions import definitions as actions
from tend.accounts.models import Stage
from tend.accounts.views.data_model.pages import (
    page_of,
    render_confirm_delete,
    render_edit,
    render_form_page,
    saved,
)
from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, get_for
from tend.workspaces.views import member_page


class StageForm(forms.Form):
    name = forms.CharField(max_length=80)
    color = forms.CharField(
        max_length=7, required=False, widget=forms.TextInput(attrs={"type": "color"})
    )
    description = forms.CharField(max_length=300, required=False)


@member_page
@require_http_methods(["GET", "POST"])
def stages(request):
    actor = request.actor
    count = Stage.objects.filter(workspace=actor.workspace).count()
    form = StageForm(
        request.POST or None, initial={"color": actions.PALETTE[count % len(actions.PALETTE)]}
    )
    if request.method == "POST":
        actor.require(ADMIN)
        create = partial(actions.create_stage, actor)
        if saved(request, form, create, "Stage “{obj.name}” added at the end."):
            return redirect(request.path)
    queryset = (
        Stage.objects.filter(workspace=actor.workspace)
        .annotate(account_count=Count("accounts"))
        .order_by("position", "id")
    )
    page = page_of(request, queryset)
    return render_form_page(
        request, "stages.html", "stages", form, page=page, last_position=page.paginator.count - 1
    )


@member_page
@require_http_methods(["GET", "POST"])
def stage_edit(request, stage_id: int):
    stage = get_for(request.actor, Stage, ADMIN, pk=stage_id)
    form = StageForm(
        request.POST or None,
        initial={"name": stage.name, "color": stage.color, "description": stage.description},
    )
    update = partial(actions.update_stage, request.actor, stage)
    if request.method == "POST" and saved(request, form, update, "Stage “{obj.name}” saved."):
        return redirect("data_model:stages")
    return render_edit(request, "stages", form, title=f"Edit stage “{stage.name}”")


@member_page
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


@member_page
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
    return render_confirm_delete(
        request, "stages", thing=f"the stage “{stage.name}”", consequence=consequence
    )
