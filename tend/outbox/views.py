"""Settings → Outbox: every email of the workspace, its delivery log and a "Retry now", for
admins (other seats 403; another workspace's ids 404 through ``get_for``)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tend.lib.errors import InvalidInput
from tend.outbox.actions import retry_message, send_test_email
from tend.outbox.email_url import FileConfig, InvalidEmailUrl, configured_transport
from tend.outbox.models import Message, MessageStatus
from tend.workspaces.access import ADMIN, get_for
from tend.workspaces.views import admin_page

PAGE_SIZE = 50
LIST_FIELDS = (
    "id",
    "workspace_id",
    "to",
    "cc",
    "subject",
    "status",
    "reason",
    "attempts",
    "next_attempt_at",
    "created_at",
    "sent_at",
    "failed_at",
    "source",
    "claimed_until",
)
EMPTY_BY_STATUS = {
    MessageStatus.QUEUED: "Nothing is waiting for its first attempt.",
    MessageStatus.RETRYING: "No message is waiting to be tried again: the mail server has accepted or refused everything.",
    MessageStatus.SENT: "No message has been sent yet.",
    MessageStatus.FAILED: "No message has failed.",
}


def delivery_summary() -> dict:
    """Where email goes now, for the banner above the list."""
    try:
        config = configured_transport()
    except InvalidEmailUrl as exc:
        return {
            "problem": f"EMAIL_URL is not valid: {exc}. Messages wait, retrying, until it is fixed."
        }
    if isinstance(config, FileConfig) and config.development:
        return {"development": True, "where": str(config.directory)}
    return {"where": config.describe()}


@admin_page
def message_list(request):
    status = request.GET.get("status", "")
    if status and status not in MessageStatus.values:
        choices = ", ".join(MessageStatus.values)
        return HttpResponseBadRequest(
            f"status: unknown status {status!r}; choose one of {choices}."
        )
    outbox = Message.objects.filter(workspace=request.actor.workspace)
    counts = dict(outbox.order_by().values_list("status").annotate(n=Count("id")))
    if status:
        outbox = outbox.filter(status=status)
    page = Paginator(outbox.only(*LIST_FIELDS).order_by("-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "status": status,
        "filters": [("", "All", sum(counts.values()))]
        + [(value, label, counts.get(value, 0)) for value, label in MessageStatus.choices],
        "empty_message": EMPTY_BY_STATUS.get(status, ""),
        "delivery": delivery_summary(),
        "settings_tab": "outbox",
    }
    template = "outbox/list.html#message-table" if request.htmx else "outbox/list.html"
    return render(request, template, context)


@admin_page
def message_detail(request, message_id: int):
    message = get_for(request.actor, Message, ADMIN, pk=message_id)
    context = {
        "message": message,
        "attempts": list(message.attempt_log.order_by("number")),
        "delivery": delivery_summary(),
        "settings_tab": "outbox",
    }
    return render(request, "outbox/detail.html", context)


@admin_page
@require_POST
def message_retry(request, message_id: int):
    message = get_for(request.actor, Message, ADMIN, pk=message_id)
    try:
        retry_message(request.actor, message)
    except InvalidInput as exc:
        messages.error(request, f"Not retried: {exc.message}")
        response = message_detail(request, message_id)
        response.status_code = 400
        return response
    messages.success(request, "Queued: the next attempt starts within seconds.")
    return redirect("outbox:detail", message_id=message.pk)


@admin_page
@require_POST
def test_message(request):
    message = send_test_email(request.actor)
    messages.success(request, f"Test message queued for {message.to[0]}; its delivery shows below.")
    return redirect("outbox:detail", message_id=message.pk)
