"""Settings → Webhooks: subscriptions, each with its secret, settings and delivery log, a
delivery's request and responses, redeliver and "Send test event" — for admins (other
seats 403; another workspace's ids 404 through ``get_for``)."""

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tend.events import registry
from tend.lib.errors import InvalidInput
from tend.webhooks import actions
from tend.webhooks.forms import SubscriptionForm
from tend.webhooks.models import Delivery, DeliveryStatus, Subscription
from tend.workspaces.access import ADMIN, get_for
from tend.workspaces.views import admin_page

PAGE_SIZE = 50
# "Rotate" offers these overlaps (hours the old secret keeps signing beside the new one).
OVERLAP_CHOICES = ((0, "Stop the old secret now"), (24, "Keep it for 24 hours"), (72, "Keep it for 3 days"), (168, "Keep it for 7 days"))  # fmt: skip
LOG_FIELDS = (
    "id", "workspace_id", "subscription_id", "event_type", "status", "reason", "attempts",
    "last_status_code", "next_attempt_at", "created_at", "delivered_at", "failed_at",
)  # fmt: skip


def _form_error(form, exc: InvalidInput) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def _list_context(request, form) -> dict:
    since = timezone.now() - timezone.timedelta(hours=24)
    subscriptions = (
        Subscription.objects.filter(workspace=request.actor.workspace)
        .annotate(
            delivered_24h=Count(
                "deliveries",
                filter=Q(
                    deliveries__status=DeliveryStatus.DELIVERED, deliveries__created_at__gte=since
                ),
            ),
            failed_24h=Count(
                "deliveries",
                filter=Q(
                    deliveries__status=DeliveryStatus.FAILED, deliveries__created_at__gte=since
                ),
            ),
            waiting=Count(
                "deliveries",
                filter=Q(deliveries__status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING]),
            ),
            last_delivery_at=Max("deliveries__created_at"),
        )
        .order_by("id")
    )
    return {
        "subscriptions": list(subscriptions),
        "form": form,
        "labels": {t.key: t.label for t in registry.all_types()},
        "settings_tab": "webhooks",
    }


@admin_page
def subscription_list(request):
    if request.method == "POST":
        form = SubscriptionForm(request.POST)
        if form.is_valid():
            try:
                subscription, secret = actions.create_subscription(request.actor, form.cleaned_data)
            except InvalidInput as exc:
                _form_error(form, exc)
            else:
                messages.success(request, "Webhook added. Copy its signing secret now.")
                return _detail(request, subscription, new_secret=secret)
        response = render(request, "webhooks/list.html", _list_context(request, form))
        response.status_code = 400
        return response
    return render(request, "webhooks/list.html", _list_context(request, SubscriptionForm()))


def _detail(request, subscription, *, form=None, new_secret=None, revealed=None, status=200):
    status_filter = request.GET.get("status", "")
    deliveries = Delivery.objects.filter(
        workspace=request.actor.workspace, subscription=subscription
    )
    counts = dict(deliveries.order_by().values_list("status").annotate(n=Count("id")))
    if status_filter:
        deliveries = deliveries.filter(status=status_filter)
    page = Paginator(deliveries.only(*LOG_FIELDS).order_by("-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    if form is None:
        form = SubscriptionForm(
            initial={
                "url": subscription.url,
                "description": subscription.description,
                "event_types": subscription.event_types,
            }
        )
    context = {
        "subscription": subscription,
        "previous_secret_valid": subscription.previous_secret_valid(timezone.now()),
        "overlap_choices": OVERLAP_CHOICES,
        "page": page,
        "status": status_filter,
        "filters": [("", "All", sum(counts.values()))]
        + [(value, label, counts.get(value, 0)) for value, label in DeliveryStatus.choices],
        "form": form,
        "new_secret": new_secret,
        "revealed": revealed,
        "labels": {t.key: t.label for t in registry.all_types()},
        "settings_tab": "webhooks",
    }
    template = (
        "webhooks/detail.html#delivery-log"
        if request.htmx and not form.is_bound
        else "webhooks/detail.html"
    )
    response = render(request, template, context)
    response.status_code = status
    return response


@admin_page
def subscription_detail(request, subscription_id: int):
    subscription = get_for(request.actor, Subscription, ADMIN, pk=subscription_id)
    status = request.GET.get("status", "")
    if status and status not in DeliveryStatus.values:
        return HttpResponseBadRequest(
            f"status: unknown status {status!r}; choose one of {', '.join(DeliveryStatus.values)}."
        )
    return _detail(request, subscription)


@admin_page
@require_POST
def subscription_edit(request, subscription_id: int):
    subscription = get_for(request.actor, Subscription, ADMIN, pk=subscription_id)
    form = SubscriptionForm(request.POST)
    if form.is_valid():
        try:
            actions.update_subscription(request.actor, subscription, form.cleaned_data)
        except InvalidInput as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Webhook saved.")
            return redirect("webhooks:detail", subscription_id=subscription.pk)
    return _detail(request, subscription, form=form, status=400)


@admin_page
@require_POST
def subscription_status(request, subscription_id: int):
    subscription = get_for(request.actor, Subscription, ADMIN, pk=subscription_id)
    try:
        actions.update_subscription(
            request.actor, subscription, {"status": request.POST.get("status")}
        )
    except InvalidInput as exc:
        messages.error(request, f"{exc.field}: {exc.message}")
        return _detail(request, subscription, status=400)
    done = {
        "active": "Webhook enabled: waiting deliveries go out now.",
        "paused": "Webhook paused: new events wait until you resume it.",
    }
    messages.success(request, done[request.POST["status"]])
    return redirect("webhooks:detail", subscription_id=subscription.pk)


@admin_page
@require_POST
def subscription_delete(request, subscription_id: int):
    subscription = get_for(request.actor, Subscription, ADMIN, pk=subscription_id)
    actions.delete_subscription(request.actor, subscription)
    messages.success(request, f"Webhook to {subscription.url} deleted, with its delivery log.")
    return redirect("webhooks:list")


@admin_page
@require_POST
def subscription_secret(request, subscription_id: int):
    """Reveal (``action=reveal``), replace (``action=rotate``, keeping the old secret signing
    for ``keep_previous_hours``) or stop the kept one (``action=retire``)."""
    subscription = get_for(request.actor, Subscription, ADMIN, pk=subscription_id)
    action = request.POST.get("action")
    if action == "rotate":
        try:
            hours = int(request.POST.get("keep_previous_hours") or 0)
            secret = actions.rotate_secret(request.actor, subscription, keep_previous_hours=hours)
        except (ValueError, InvalidInput):
            messages.error(
                request,
                "keep_previous_hours: choose how long the old secret keeps signing "
                f"(0 to {actions.MAX_OVERLAP_HOURS} hours).",
            )
            return _detail(request, subscription, status=400)
        if hours:
            messages.success(
                request,
                f"New secret made. For {hours} hours deliveries carry two signatures, "
                "the new secret's and the old one's.",
            )
        else:
            messages.success(request, "New secret made: the next deliveries are signed with it.")
        return _detail(request, subscription, new_secret=secret)
    if action == "retire":
        actions.retire_previous_secret(request.actor, subscription)
        messages.success(request, "The previous secret no longer signs deliveries.")
        return redirect("webhooks:detail", subscription.pk)
    if action == "reveal":
        try:
            secret = actions.reveal_secret(request.actor, subscription)
        except InvalidInput as exc:
            messages.error(request, f"{exc.field}: {exc.message}")
            return _detail(request, subscription, status=400)
        return _detail(request, subscription, revealed=secret)
    return HttpResponseBadRequest("action: choose reveal, rotate or retire.")


@admin_page
@require_POST
def subscription_test(request, subscription_id: int):
    subscription = get_for(request.actor, Subscription, ADMIN, pk=subscription_id)
    try:
        delivery = actions.send_test_event(request.actor, subscription)
    except InvalidInput as exc:
        messages.error(request, f"Not sent: {exc.message}")
        return _detail(request, subscription, status=400)
    messages.success(request, "Test event queued; its delivery shows below within seconds.")
    return redirect("webhooks:delivery", subscription_id=subscription.pk, delivery_id=delivery.pk)


def _delivery(request, subscription_id, delivery_id):
    subscription = get_for(request.actor, Subscription, ADMIN, pk=subscription_id)
    delivery = get_for(request.actor, Delivery, ADMIN, pk=delivery_id, subscription=subscription)
    delivery.subscription = subscription
    return delivery


def _pretty(text: str) -> str:
    """The body indented for reading (what was sent is the compact form, byte for byte)."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _delivery_page(request, delivery, status=200):
    context = {
        "subscription": delivery.subscription,
        "delivery": delivery,
        "attempts": list(delivery.attempt_log.order_by("-number")),
        "body": _pretty(delivery.body_text),
        "label": registry.get(delivery.event_type).label
        if delivery.event_type in registry.type_keys()
        else "Test event",
        "settings_tab": "webhooks",
    }
    response = render(request, "webhooks/delivery.html", context)
    response.status_code = status
    return response


@admin_page
def delivery_detail(request, subscription_id: int, delivery_id: int):
    return _delivery_page(request, _delivery(request, subscription_id, delivery_id))


@admin_page
@require_POST
def delivery_redeliver(request, subscription_id: int, delivery_id: int):
    delivery = _delivery(request, subscription_id, delivery_id)
    try:
        actions.redeliver(request.actor, delivery)
    except InvalidInput as exc:
        messages.error(request, f"Not redelivered: {exc.message}")
        return _delivery_page(request, delivery, status=400)
    messages.success(request, "Queued: the next attempt starts within seconds.")
    return redirect("webhooks:delivery", subscription_id=subscription_id, delivery_id=delivery.pk)
