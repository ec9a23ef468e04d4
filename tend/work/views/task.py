"""One task: its page with comments, the new-task and edit forms, deleting it, and the
account suggestions the new-task form offers."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.accounts.models import Account
from tend.accounts.views.accounts.common import member_required
from tend.lib.errors import InvalidInput
from tend.work import actions
from tend.work.forms import CommentForm, NewTaskForm, TaskForm
from tend.work.markdown import render_markdown
from tend.work.models import TaskComment
from tend.work.queries import can_change, can_delete, local_today
from tend.work.views.common import go, safe_next, task_for
from tend.workspaces.access import CONTRIBUTE

COMMENTS_PAGE = 50
ACCOUNT_OPTIONS = 20


def _form_error(form, exc: InvalidInput) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@member_required
@require_GET
def task_detail(request, task_id: int):
    actor = request.actor
    task = task_for(request, task_id)
    comments = TaskComment.objects.filter(task=task).select_related("author__user")
    # The newest page by default: a long thread opens where the conversation is.
    paginator = Paginator(comments.order_by("created_at", "id"), COMMENTS_PAGE)
    page = paginator.get_page(request.GET.get("page") or paginator.num_pages)
    return render(
        request,
        "work/detail.html",
        {
            "task": task,
            "description": render_markdown(task.description),
            "comments": [{"comment": c, "html": render_markdown(c.body)} for c in page],
            "comments_page": page,
            "form": CommentForm(),
            "today": local_today(actor.workspace),
            "can_change": can_change(actor, task),
            "can_comment": actor.can(CONTRIBUTE),
            "can_delete": can_delete(actor, task),
        },
    )


def _account_from(request, text: str):
    """The account the new-task form names: an id from the profile's link, else an exact
    external id, else an exact name (case-insensitive)."""
    accounts = Account.objects.filter(workspace=request.actor.workspace)
    text = (text or "").strip()
    if not text:
        return None
    return (
        accounts.filter(external_id=text).first()
        or accounts.filter(name__iexact=text).order_by("id").first()
    )


@member_required
@require_http_methods(["GET", "POST"])
def task_new(request):
    actor = request.actor
    actor.require(CONTRIBUTE)
    workspace = actor.workspace
    fixed = None
    if request.GET.get("account"):
        try:
            fixed = Account.objects.get(workspace=workspace, pk=int(request.GET["account"]))
        except (Account.DoesNotExist, ValueError):
            fixed = None
    initial = {"due_date": local_today(workspace), "assignee": actor.member}
    if fixed is not None:
        initial["account"] = fixed.external_id
    form = NewTaskForm(request.POST or None, workspace=workspace, initial=initial)
    if request.method == "POST" and form.is_valid():
        account = _account_from(request, form.cleaned_data["account"])
        if account is None:
            form.add_error("account", "No account has that external id or name.")
        else:
            data = {k: v for k, v in form.cleaned_data.items() if k != "account"}
            try:
                task = actions.create_task(actor, account, data)
            except InvalidInput as exc:
                _form_error(form, exc)
            else:
                messages.success(request, f"Task “{task.title}” added for {account.name}.")
                return go(request, safe_next(request, reverse("work:detail", args=[task.pk])))
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "work/form.html",
        {"form": form, "account": fixed, "task": None, "next": safe_next(request, "")},
        status=status,
    )


@member_required
@require_GET
def account_options(request):
    """``<option>``s for the new-task form's account field: names and external ids that
    contain what was typed, at most ``ACCOUNT_OPTIONS``."""
    text = (request.GET.get("account") or "").strip()[:120]
    accounts = Account.objects.filter(workspace=request.actor.workspace)
    accounts = accounts.search(text).order_by("name", "id")[:ACCOUNT_OPTIONS] if text else []
    return render(request, "work/_account_options.html", {"accounts": accounts})


@member_required
@require_http_methods(["GET", "POST"])
def task_edit(request, task_id: int):
    actor = request.actor
    task = task_for(request, task_id, change=True)
    fields = ("title", "description", "type", "priority", "due_date", "assignee")
    initial = {name: getattr(task, name) for name in fields}
    form = TaskForm(request.POST or None, workspace=actor.workspace, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_task(actor, task, form.cleaned_data)
        except InvalidInput as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Task saved.")
            return go(request, reverse("work:detail", args=[task.pk]))
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "work/form.html",
        {"form": form, "account": task.account, "task": task},
        status=status,
    )


@member_required
@require_http_methods(["GET", "POST"])
def task_delete(request, task_id: int):
    actor = request.actor
    task = task_for(request, task_id)
    if request.method == "POST":
        account = task.account
        actions.delete_task(actor, task)
        messages.success(request, f"Task “{task.title}” deleted.")
        return go(request, reverse("accounts:profile", args=[account.pk]))
    if not can_delete(actor, task):
        raise PermissionDenied("You may not delete this task.")
    return render(request, "work/delete.html", {"task": task})


@member_required
@require_POST
def task_comment(request, task_id: int):
    actor = request.actor
    task = task_for(request, task_id)
    actor.require(CONTRIBUTE)
    form = CommentForm(request.POST)
    url = reverse("work:detail", args=[task.pk])
    if form.is_valid():
        try:
            actions.add_comment(actor, task, form.cleaned_data["body"])
        except InvalidInput as exc:
            messages.error(request, f"The comment was not saved: {exc.message}.")
        else:
            return go(request, f"{url}#comments-end")
    else:
        messages.error(request, "The comment was not saved: write something first.")
    return go(request, url)
