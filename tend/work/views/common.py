"""What every tasks page needs: the task through the chokepoint, the rows' context, and where
to go after a form."""

from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from tend.work.models import Task
from tend.work.queries import assignable_members, get_task, local_today, with_people


def task_for(request, task_id: int, *, change: bool = False) -> Task:
    """The task of the actor's workspace (404 otherwise); with ``change``, 403 unless the
    actor may change it."""
    return get_task(request.actor, task_id, change=change, queryset=with_people(Task.objects.all()))


def safe_next(request, default: str) -> str:
    """The ``next`` the form carried, when it points inside Tend; else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def go(request, url: str):
    """To ``url``: a full navigation, also after an htmx request."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def row_context(request, workspace) -> dict:
    """What a task row's inline controls need: today and the members it may go to."""
    return {"today": local_today(workspace), "members": list(assignable_members(workspace))}
