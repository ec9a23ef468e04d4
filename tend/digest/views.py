"""Pages: the preview of my digest, my digest settings, and the unsubscribe link (which works
without logging in: its signed token names the member)."""

import zoneinfo

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_scopes import scope

from tend.lib.errors import InvalidInput
from tend.workspaces.models import Member
from tend.workspaces.views import member_page

from .actions import save_settings, unsubscribe
from .content import build, local_now, setting_of
from .models import DigestRun
from .tokens import member_ids_of

HOURS = [(h, f"{h:02d}:00") for h in range(24)]


@member_page
def preview(request):
    """What today's digest would say if it were sent now: the same ``build`` the job uses."""
    member = request.actor.member
    now = timezone.now()
    digest = build(member, now)
    setting = setting_of(member)
    last = (
        DigestRun.objects.filter(workspace=member.workspace_id, member=member)
        .order_by("-day")
        .first()
    )
    return render(
        request,
        "digest/preview.html",
        {
            "digest": digest,
            "setting": setting,
            "last": last,
            "local_now": local_now(member, now, setting),
        },
    )


@member_page
@require_http_methods(["GET", "POST"])
def settings_page(request):
    member = request.actor.member
    setting = setting_of(member)
    values = {"enabled": setting.enabled, "hour": setting.hour, "time_zone": setting.time_zone}
    error, status = None, 200
    if request.method == "POST":
        values = {
            "enabled": request.POST.get("enabled") == "on",
            "hour": request.POST.get("hour", ""),
            "time_zone": request.POST.get("time_zone", ""),
        }
        try:
            save_settings(member, **values)
        except InvalidInput as exc:
            error, status = exc, 422
        else:
            messages.success(
                request,
                "Daily digest on."
                if values["enabled"]
                else "Daily digest off: no more digest emails.",
            )
            return redirect("digest:settings")
    return render(
        request,
        "digest/settings.html",
        {
            "values": values,
            "error": error,
            "hours": HOURS,
            "zones": sorted(zoneinfo.available_timezones()),
            "workspace_zone": member.workspace.time_zone or "UTC",
        },
        status=status,
    )


@csrf_exempt  # mail clients' one-click unsubscribe posts without a session; the token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe_link(request, token: str):
    """GET shows a button (link scanners fetch GETs, so a GET changes nothing); POST turns the
    digest off for the member the token was signed for, and no one else. A token that was
    not signed by us (edited, truncated) answers 400; a member since removed, 404."""
    ids = member_ids_of(token)
    if ids is None:
        return HttpResponseBadRequest(
            "This unsubscribe link is not valid: copy the whole link from the email."
        )
    member_id, workspace_id = ids
    with scope(workspace=workspace_id):
        member = (
            Member.objects.filter(pk=member_id, workspace_id=workspace_id)
            .select_related("user", "workspace")
            .first()
        )
        if member is None:
            return render(request, "digest/unsubscribe.html", {"gone": True}, status=404)
        done = False
        if request.method == "POST":
            unsubscribe(member)
            done = True
        return render(
            request,
            "digest/unsubscribe.html",
            {"member": member, "done": done, "enabled": setting_of(member).enabled, "token": token},
        )
