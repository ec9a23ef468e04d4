"""Settings → Jobs: the workspace's background jobs, for admins, with a retry for failures."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from tend.jobs.actions import retry_job
from tend.jobs.models import Job, JobStatus
from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, get_for

PAGE_SIZE = 50
EMPTY_BY_STATUS = {
    JobStatus.QUEUED: "No job is waiting to run.",
    JobStatus.RUNNING: "No job is running right now.",
    JobStatus.SUCCEEDED: "No job has succeeded in the last week (finished jobs are kept for 7 days).",
    JobStatus.FAILED: "No job has failed in the last 30 days, or every failure has been retried.",
}


def _admin_actor(request):
    actor = getattr(request, "actor", None)
    if actor is None:
        raise Http404("No workspace.")
    actor.require(ADMIN)
    return actor


@login_required
def job_list(request):
    actor = _admin_actor(request)
    status = request.GET.get("status", "")
    if status and status not in JobStatus.values:
        choices = ", ".join(JobStatus.values)
        return HttpResponseBadRequest(f"status: unknown status {status!r}; choose one of {choices}.")
    jobs = Job.objects.filter(workspace=actor.workspace)
    counts = dict(jobs.order_by().values_list("status").annotate(n=Count("id")))
    if status:
        jobs = jobs.filter(status=status)
    page = Paginator(jobs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "filters": [("", "All", sum(counts.values()))]
        + [(value, label, counts.get(value, 0)) for value, label in JobStatus.choices],
        "empty_message": EMPTY_BY_STATUS.get(status, ""),
        "query": urlencode({"status": status}) if status else "",
    }
    template = "web/jobs.html#job-table" if request.htmx else "web/jobs.html"
    return render(request, template, context)


@login_required
@require_POST
def job_retry(request, job_id: int):
    actor = getattr(request, "actor", None)
    if actor is None:
        raise Http404("No workspace.")
    job = get_for(actor, Job, ADMIN, pk=job_id)
    try:
        retry_job(job)
    except InvalidInput as exc:
        # Show the list again with the reason, answering 400 rather than redirecting.
        messages.error(request, f"Job #{job.pk} was not retried: {exc.message}")
        response = job_list(request)
        response.status_code = 400
        return response
    messages.success(request, f"Job #{job.pk} ({job.kind}) is queued again.")
    back = reverse("web:jobs")
    status = request.POST.get("status", "")
    if status in JobStatus.values:
        back += "?" + urlencode({"status": status})
    return redirect(back)
