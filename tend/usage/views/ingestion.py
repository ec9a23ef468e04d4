"""Data → Ingestion: is my data flowing, and what was refused?

One page, readable by every member: volumes by source (chart and totals), whether the
rollups keep up, the latest refused items, trait names the data model lacks, the ingest
keys with a copy-paste snippet per source, and the usage settings. Admins create and
revoke ingest keys and change the settings, each through its own POST URL that redirects
back (or re-renders the page with the error beside the field, answering 422).
"""

import datetime
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from tend.accounts.models import AttributeDefinition, AttributeType, ObjectType
from tend.lib.dates import zone
from tend.lib.errors import InvalidInput
from tend.usage import ingestion_log
from tend.usage.actions.settings import (
    MAX_RETENTION_DAYS,
    MIN_RETENTION_DAYS,
    update_usage_settings,
)
from tend.usage.ingest.facts import Reason
from tend.usage.ingest.traits import snake
from tend.usage.models import Source, UsageSettings
from tend.usage.views.ingestion_snippets import snippets
from tend.workspaces import actions as workspace_actions
from tend.workspaces.access import ADMIN, get_for
from tend.workspaces.forms import show_error
from tend.workspaces.models import ApiToken, Scope
from tend.workspaces.views import member_page

PAGE_SIZE = 10
NEW_KEY_SESSION_KEY = "tend_new_ingest_key"
REASONS = sorted(
    (value, value.replace("_", " ").capitalize())
    for name, value in vars(Reason).items()
    if name.isupper() and isinstance(value, str)
)


# --- forms: they only parse; the actions validate ---------------------------------------------


class IngestKeyForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=120,
        help_text="What sends with it, e.g. “Product backend” or “Segment”.",
    )


class UsageSettingsForm(forms.Form):
    create_unknown = forms.BooleanField(
        label="Create unknown accounts and end users on first sight",
        required=False,
        help_text="Off: events naming an account Tend does not know are refused "
        "(reason: unknown account) instead.",
    )
    module_property = forms.CharField(
        label="Module property",
        max_length=100,
        help_text="The event property (Segment track, page and screen calls) that names the "
        "area of your product.",
    )
    licence_attribute = forms.ChoiceField(
        label="Licence attribute",
        help_text="The numeric account attribute holding the seats a customer pays for: "
        "licence utilisation is active users in 14 days ÷ this.",
    )
    retention_days = forms.IntegerField(
        label="Keep raw events for (days)",
        help_text=f"{MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS}. Older events are deleted "
        "every night; daily rollups and metrics are kept.",
    )

    def __init__(self, *args, workspace, current: str, **kwargs):
        super().__init__(*args, **kwargs)
        numeric = list(
            AttributeDefinition.objects.filter(
                workspace=workspace, object_type=ObjectType.ACCOUNT, type=AttributeType.NUMBER
            )
            .order_by("label", "key")
            .values_list("key", "label")
        )
        choices = [(key, f"{label} ({key})") for key, label in numeric]
        if current and current not in {key for key, _ in numeric}:
            # The default ("licenses") before anyone defined it: shown, so saving the
            # other settings does not fail on it.
            choices.insert(0, (current, f"{current} (not defined in the data model)"))
        self.fields["licence_attribute"].choices = choices


def settings_form(request, settings: UsageSettings, data=None) -> UsageSettingsForm:
    initial = {
        "create_unknown": settings.create_unknown,
        "module_property": settings.module_property,
        "licence_attribute": settings.licence_attribute,
        "retention_days": settings.retention_days,
    }
    return UsageSettingsForm(
        data,
        initial=initial,
        workspace=request.actor.workspace,
        current=settings.licence_attribute,
    )


def current_settings(workspace) -> UsageSettings:
    """The stored settings, or the defaults (unsaved): reading the page writes nothing, and
    an admin sees a change at once (ingestion's cached copy may lag a few seconds)."""
    return UsageSettings.objects.filter(workspace=workspace).first() or UsageSettings(
        workspace=workspace
    )


# --- the page ---------------------------------------------------------------------------------


def url_with(request, anchor: str = "", **changes) -> str:
    """This page's URL with some query parameters changed (None or "" removes one)."""
    params = request.GET.copy()
    for name, value in changes.items():
        if value in (None, ""):
            params.pop(name, None)
        else:
            params[name] = value
    query = params.urlencode()
    return f"{request.path}{'?' + query if query else ''}{'#' + anchor if anchor else ''}"


def hour_text(hour: datetime.datetime | None, now: datetime.datetime, tz) -> str:
    """When, to the hour, something last arrived (the counts are kept per hour)."""
    if hour is None:
        return "never"
    if hour >= now.replace(minute=0, second=0, microsecond=0):
        return "this hour"
    local = hour.astimezone(tz)
    end = (hour + datetime.timedelta(hours=1)).astimezone(tz)
    if local.date() == now.astimezone(tz).date():
        return f"today {local:%H}:00–{end:%H}:00"
    return f"{local.day} {local:%b} {local:%H}:00–{end:%H}:00"


def refused_context(request) -> dict:
    source = request.GET.get("source") or ""
    reason = request.GET.get("reason") or ""
    if source not in Source.values:
        source = ""
    try:
        rows, next_cursor = ingestion_log.rejections(
            request.actor.workspace,
            source=source or None,
            reason=reason or None,
            cursor=request.GET.get("refused_cursor") or None,
            limit=PAGE_SIZE,
        )
        paged = bool(request.GET.get("refused_cursor"))
    except InvalidInput:
        # A cursor from an old link: start again from the newest.
        rows, next_cursor = ingestion_log.rejections(
            request.actor.workspace,
            source=source or None,
            reason=reason or None,
            limit=PAGE_SIZE,
        )
        paged = False
    return {
        "refused": rows,
        "refused_filters": {"source": source, "reason": reason},
        "refused_filtered": bool(source or reason),
        "refused_older_url": url_with(request, "refused", refused_cursor=next_cursor)
        if next_cursor
        else "",
        "refused_newest_url": url_with(request, "refused", refused_cursor=None) if paged else "",
        "sources": Source.choices,
        "reasons": REASONS,
    }


def define_attribute_url(trait) -> str:
    """The data model tab of the trait's object type, its create form prefilled."""
    if trait.object_type == ObjectType.ACCOUNT:
        base = reverse("data_model:index")
    else:
        base = reverse("data_model:attributes", kwargs={"object_type": trait.object_type})
    key = snake(trait.name)[:63]
    label = key.replace("_", " ").capitalize() or trait.name
    return f"{base}?{urlencode({'key': key, 'label': label[:120]})}#new-attribute"


def traits_context(request) -> dict:
    try:
        rows, next_cursor = ingestion_log.unmapped_traits(
            request.actor.workspace,
            cursor=request.GET.get("traits_cursor") or None,
            limit=PAGE_SIZE,
        )
        paged = bool(request.GET.get("traits_cursor"))
    except InvalidInput:
        rows, next_cursor = ingestion_log.unmapped_traits(request.actor.workspace, limit=PAGE_SIZE)
        paged = False
    return {
        "traits": [{"trait": t, "define_url": define_attribute_url(t)} for t in rows],
        "traits_older_url": url_with(request, "traits", traits_cursor=next_cursor)
        if next_cursor
        else "",
        "traits_newest_url": url_with(request, "traits", traits_cursor=None) if paged else "",
    }


def pop_new_key(request) -> dict | None:
    """The key created a moment ago, handed over through the session and removed as it is
    shown: the raw key is stored nowhere else, so a reload cannot show it again."""
    shown = request.session.get(NEW_KEY_SESSION_KEY)
    if not shown or shown.get("workspace") != request.actor.workspace.pk:
        return None
    del request.session[NEW_KEY_SESSION_KEY]
    token = ApiToken.objects.filter(workspace=request.actor.workspace, pk=shown["id"]).first()
    return {"token": token, "raw": shown["raw"]} if token else None


def render_page(request, *, form=None, key_form=None, status: int = 200):
    actor = request.actor
    workspace = actor.workspace
    now = timezone.now()
    tz = zone(workspace.time_zone)
    period = ingestion_log.PERIODS.get(
        request.GET.get("period"), ingestion_log.PERIODS[ingestion_log.DEFAULT_PERIOD]
    )
    volumes = ingestion_log.volumes(workspace, period, now)
    rollups = ingestion_log.rollup_status(workspace)
    settings = current_settings(workspace)
    is_admin = actor.can(ADMIN)
    new_key = pop_new_key(request) if request.method == "GET" else None
    keys = list(ingestion_log.ingest_keys(workspace)[: ingestion_log.INGEST_KEYS_LIMIT + 1])
    for key in keys:
        key.other_scopes = [s for s in key.scopes if s != Scope.INGEST]
    base_url = request.build_absolute_uri("/").rstrip("/")
    context = {
        "period": period,
        "periods": [
            {"key": p.key, "label": p.label, "url": url_with(request, "volumes", period=p.key)}
            for p in ingestion_log.PERIODS.values()
        ],
        "volumes": volumes,
        "chart_data": volumes.chart_data(),
        "rollups": rollups,
        "source_activity": [
            {
                "activity": a,
                "received": hour_text(a.last_received, now, tz),
                "stored": hour_text(a.last_stored, now, tz),
                "nothing_stored_since": a.last_stored is None or a.last_stored < a.last_received,
            }
            for a in rollups.sources
        ],
        "never_received": not rollups.sources,
        "keys": keys[: ingestion_log.INGEST_KEYS_LIMIT],
        "keys_truncated": len(keys) > ingestion_log.INGEST_KEYS_LIMIT,
        "new_key": new_key,
        "key_form": key_form or IngestKeyForm(),
        "snippets": snippets(base_url, new_key["raw"] if new_key else None),
        "settings": settings,
        "settings_form": form or (settings_form(request, settings) if is_admin else None),
        "is_admin": is_admin,
        "time_zone": workspace.time_zone,
        **refused_context(request),
        **traits_context(request),
    }
    response = render(request, "usage/ingestion.html", context, status=status)
    if new_key:
        response["Cache-Control"] = "no-store"
    return response


@member_page
@require_GET
def ingestion(request):
    if request.htmx and request.htmx.target == "refused":
        # The filters and pager of the refused items swap that section alone.
        return render(request, "usage/ingestion.html#refused", refused_context(request))
    return render_page(request)


# --- admin actions ----------------------------------------------------------------------------


@member_page
@require_POST
def key_create(request):
    actor = request.actor
    actor.require(ADMIN)
    form = IngestKeyForm(request.POST)
    if form.is_valid():
        try:
            token, raw = workspace_actions.create_api_token(
                actor, name=form.cleaned_data["name"], scopes=[Scope.INGEST]
            )
        except InvalidInput as error:
            show_error(form, error)
        else:
            request.session[NEW_KEY_SESSION_KEY] = {
                "id": token.pk,
                "raw": raw,
                "workspace": actor.workspace.pk,
            }
            return redirect(reverse("usage:ingestion") + "#new-key")
    return render_page(request, key_form=form, status=422)


@member_page
@require_POST
def key_revoke(request, token_id: int):
    token = get_for(
        request.actor, ingestion_log.ingest_keys(request.actor.workspace), ADMIN, pk=token_id
    )
    workspace_actions.revoke_api_token(request.actor, token)
    messages.success(
        request, f"Ingest key “{token.name}” revoked: clients sending with it are now refused."
    )
    return redirect(reverse("usage:ingestion") + "#keys")


@member_page
@require_POST
def settings_update(request):
    actor = request.actor
    actor.require(ADMIN)
    form = settings_form(request, current_settings(actor.workspace), request.POST)
    if form.is_valid():
        try:
            update_usage_settings(actor, form.cleaned_data)
        except InvalidInput as error:
            show_error(form, error)
        else:
            messages.success(request, "Usage settings saved.")
            return redirect(reverse("usage:ingestion") + "#settings")
    return render_page(request, form=form, status=422)
