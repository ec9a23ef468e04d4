"""Tags: any writer may create, rename and delete them (the other definitions are admins')."""

from functools import partial

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from tend.accounts.actions import definitions as actions
from tend.accounts.models import Tag
from tend.accounts.views.data_model.pages import (
    page_of,
    render_confirm_delete,
    render_edit,
    render_form_page,
    saved,
)
from tend.workspaces.access import WRITE, get_for
from tend.workspaces.views import member_page


class TagForm(forms.Form):
    name = forms.CharField(max_length=80)
    color = forms.CharField(
        max_length=7, required=False, widget=forms.TextInput(attrs={"type": "color"})
    )


@member_page
@require_http_methods(["GET", "POST"])
def tags(request):
    actor = request.actor
    form = TagForm(request.POST or None, initial={"color": actions.DEFAULT_TAG_COLOR})
    if request.method == "POST":
        actor.require(WRITE)
        create = partial(actions.create_tag, actor)
        if saved(request, form, create, "Tag “{obj.name}” added."):
            return redirect(request.path)
    queryset = (
        Tag.objects.filter(workspace=actor.workspace)
        .annotate(account_count=Count("accounts"))
        .order_by("name", "id")
    )
    return render_form_page(request, "tags.html", "tags", form, page=page_of(request, queryset))


@member_page
@require_http_methods(["GET", "POST"])
def tag_edit(request, tag_id: int):
    tag = get_for(request.actor, Tag, WRITE, pk=tag_id)
    form = TagForm(request.POST or None, initial={"name": tag.name, "color": tag.color})
    update = partial(actions.update_tag, request.actor, tag)
    if request.method == "POST" and saved(request, form, update, "Tag “{obj.name}” saved."):
        return redirect("data_model:tags")
    return render_edit(request, "tags", form, title=f"Rename tag “{tag.name}”")


@member_page
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
    return render_confirm_delete(
        request, "tags", thing=f"the tag “{tag.name}”", consequence=consequence
    )
