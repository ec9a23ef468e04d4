"""Pages: what I follow (and the follow buttons' posts), alert rules (every member reads
them; admins create, change and delete)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tend.accounts.models import Account, AccountStatus, AssignmentRole, Stage
from tend.alerts import kinds
from tend.alerts.actions import create_rule, delete_rule, follow, unfollow, update_rule
from tend.alerts.models import AlertFiring, AlertRule
from tend.alerts.queries import firing_counts, follows_of, is_following, rule_for
from tend.health.models import Rank
from tend.lib.errors import InvalidInput
from tend.segments.queries import get_segment, visible_segments
from tend.workspaces.access import ADMIN, get_for
from tend.workspaces.models import Member
from tend.workspaces.views import admin_page, member_page

PAGE_SIZE = 50


# --- Follows ------------------------------------------------------------------------------


@member_page
def following(request):
    rows = follows_of(request.actor.member).select_related("account", "segment").order_by("-id")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "alerts/following.html", {"page": page})


def _toggle(request, *, account=None, segment=None, back: str):
    action = request.POST.get("action", "")
    if action not in ("follow", "unfollow"):
        return HttpResponseBadRequest("action: expected follow or unfollow.")
    member = request.actor.member
    target = {"account": account} if account is not None else {"segment": segment}
    if action == "follow":
        follow(member, **target)
    else:
        unfollow(member, **target)
    if request.htmx:
        url = request.path
        context = {
            "follow": {
                "following": is_following(member, **target),
                "url": url,
                "what": "account" if account is not None else "segment",
            }
        }
        return render(request, "alerts/_follow_button.html", context)
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return redirect(target if target and safe else back)


@require_POST
@member_page
def follow_account(request, account_id: int):
    account = get_for(request.actor, Account, pk=account_id)
    return _toggle(request, account=account, back=reverse("accounts:profile", args=[account.pk]))


@require_POST
@member_page
def follow_segment(request, segment_id: int):
    segment = get_segment(request.actor, segment_id)
    return _toggle(request, segment=segment, back=reverse("segments:detail", args=[segment.pk]))


# --- Alert rules --------------------------------------------------------------------------


def describe(rule: AlertRule, names: dict) -> str:
    c = rule.trigger_config or {}
    kind = rule.trigger_kind
    if kind == "health_changed":
        parts = ["Health rank changed"]
        if c.get("from_rank"):
            parts.append(f"from {c['from_rank'].title()}")
        if c.get("to_rank"):
            parts.append(f"to {c['to_rank'].title()}")
        return " ".join(parts)
    if kind in ("segment_entered", "segment_left"):
        verb = "entered" if kind == "segment_entered" else "left"
        return f"Account {verb} segment “{names['segments'].get(c.get('segment_id'), '(deleted)')}”"
    if kind == "event_received":
        return f"Event “{c.get('activity', '')}” arrived"
    if kind == "status_changed":
        parts = ["Status changed"]
        if c.get("from_status"):
            parts.append(f"from {c['from_status']}")
        if c.get("to_status"):
            parts.append(f"to {c['to_status']}")
            if not c.get("from_status") and c.get("new_accounts", True):
                parts.append(f"(or account created as {c['to_status']})")
        return " ".join(parts)
    if kind == "usage_dropped":
        return f"Usage dropped by {c.get('percent', 50)}% or more week on week (from at least {c.get('min_events', 20)} events)"
    if kind == "stage_changed":
        return f"Journey stage changed{' to ' + c['to_stage'] if c.get('to_stage') else ''}"
    return kind


def who(rule: AlertRule, names: dict) -> str:
    parts = []
    if rule.followers:
        parts.append("followers")
    parts += [names["roles"].get(r, "?") for r in rule.roles]
    parts += [names["members"].get(m, "?") for m in rule.members]
    return ", ".join(parts) or "—"


def _names(workspace, actor) -> dict:
    return {
        "segments": dict(
            visible_segments(actor).filter(workspace=workspace).values_list("pk", "name")
        ),
        "roles": dict(AssignmentRole.objects.filter(workspace=workspace).values_list("pk", "name")),
        "members": {
            m.pk: m.name for m in Member.objects.filter(workspace=workspace).select_related("user")
        },
    }


@member_page
def rule_list(request):
    workspace = request.actor.workspace
    page = Paginator(
        AlertRule.objects.filter(workspace=workspace).order_by("name", "id"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    rules = list(page.object_list)
    counts = firing_counts(workspace, [r.pk for r in rules])
    names = _names(workspace, request.actor)
    rows = [
        {
            "rule": r,
            "what": describe(r, names),
            "who": who(r, names),
            "how": ", ".join(
                label
                for label, on in (
                    ("in-app", r.in_app),
                    ("email", r.email),
                    ("Slack", bool(r.slack_url)),
                )
                if on
            ),
            "sent": counts.get(r.pk, {}).get("sent", 0),
            "suppressed": counts.get(r.pk, {}).get("suppressed", 0),
        }
        for r in rules
    ]
    return render(
        request,
        "alerts/list.html",
        {"page": page, "rows": rows, "can_edit": request.actor.can(ADMIN)},
    )


def _form_data(post) -> dict:
    """The editor's fields as the action's input (what ``clean_rule`` validates)."""
    kind = post.get("kind", "")
    config = {}
    if kind == "health_changed":
        for name in ("from_rank", "to_rank"):
            if post.get(name):
                config[name] = post[name]
    elif kind in ("segment_entered", "segment_left"):
        config["segment_id"] = post.get("segment_id") or None
    elif kind == "event_received":
        config["activity"] = post.get("activity", "")
    elif kind == "status_changed":
        for name in ("from_status", "to_status"):
            if post.get(name):
                config[name] = post[name]
        config["new_accounts"] = bool(post.get("new_accounts"))
    elif kind == "stage_changed":
        if post.get("to_stage"):
            config["to_stage"] = post["to_stage"]
    elif kind == "usage_dropped":
        config["percent"] = post.get("percent") or None
        config["min_events"] = post.get("min_events") or None

    def number(name):
        value = post.get(name, "").strip()
        try:
            return int(value)
        except ValueError:
            return value  # refused, naming the field

    return {
        "name": post.get("name", ""),
        "trigger": {"kind": kind, "config": config},
        "roles": post.getlist("roles"),
        "members": post.getlist("members"),
        "followers": post.get("followers") == "on",
        "in_app": post.get("in_app") == "on",
        "email": post.get("email") == "on",
        "slack_url": post.get("slack_url", ""),
        "max_per_hour": number("max_per_hour"),
        "is_active": post.get("is_active") == "on",
    }


def _initial(rule: AlertRule | None) -> dict:
    if rule is None:
        return {
            "name": "",
            "kind": "health_changed",
            "config": {"to_rank": "poor"},
            "roles": [],
            "members": [],
            "followers": True,
            "in_app": True,
            "email": False,
            "slack_url": "",
            "max_per_hour": 10,
            "is_active": True,
        }
    return {
        "name": rule.name,
        "kind": rule.trigger_kind,
        "config": rule.trigger_config,
        "roles": rule.roles,
        "members": rule.members,
        "followers": rule.followers,
        "in_app": rule.in_app,
        "email": rule.email,
        "slack_url": rule.slack_url,
        "max_per_hour": rule.max_per_hour,
        "is_active": rule.is_active,
    }


def _editor(request, rule: AlertRule | None):
    actor = request.actor
    workspace = actor.workspace
    values, error, status = _initial(rule), None, 200
    if request.method == "POST":
        data = _form_data(request.POST)
        try:
            if rule is None:
                rule = create_rule(actor, data)
                messages.success(
                    request, f"Alert rule “{rule.name}” created: it fires on changes from now on."
                )
            else:
                rule = update_rule(actor, rule, data)
                messages.success(request, f"Alert rule “{rule.name}” saved.")
            return redirect("alerts:list")
        except InvalidInput as exc:
            error, status = exc, 422
            values = {
                **{k: v for k, v in data.items() if k != "trigger"},
                "kind": data["trigger"]["kind"],
                "config": data["trigger"]["config"],
                "roles": [int(r) for r in data["roles"] if str(r).isdigit()],
                "members": [int(m) for m in data["members"] if str(m).isdigit()],
            }
    context = {
        "rule": rule,
        "values": values,
        "error": error,
        "error_field": error.field.rsplit(".", 1)[-1] if error else "",
        "kinds": [(name, kind.label) for name, kind in kinds.kinds().items()],
        "ranks": Rank.choices,
        "statuses": AccountStatus.choices,
        "segments": list(
            visible_segments(actor)
            .filter(workspace=workspace)
            .order_by("name")
            .values_list("pk", "name")
        ),
        "stages": list(
            Stage.objects.filter(workspace=workspace)
            .order_by("position")
            .values_list("name", flat=True)
        ),
        "roles": list(
            AssignmentRole.objects.filter(workspace=workspace)
            .order_by("name")
            .values_list("pk", "name")
        ),
        "members": [
            (m.pk, m.name)
            for m in Member.objects.filter(workspace=workspace, is_active=True)
            .select_related("user")
            .order_by("user__email")
        ],
    }
    return render(request, "alerts/editor.html", context, status=status)


@admin_page
def rule_new(request):
    return _editor(request, None)


@admin_page
def rule_edit(request, rule_id: int):
    return _editor(request, rule_for(request.actor, rule_id, ADMIN))


@require_POST
@admin_page
def rule_delete(request, rule_id: int):
    rule = rule_for(request.actor, rule_id, ADMIN)
    name = rule.name
    delete_rule(request.actor, rule)
    messages.success(request, f"Alert rule “{name}” deleted.")
    return redirect("alerts:list")


@member_page
def rule_detail(request, rule_id: int):
    """The rule's recent firings: who was told, and who was held back by the rate limit."""
    rule = rule_for(request.actor, rule_id)
    firings = (
        AlertFiring.objects.filter(workspace=request.actor.workspace, rule=rule)
        .select_related("member__user", "account")
        .order_by("-id")
    )
    page = Paginator(firings, PAGE_SIZE).get_page(request.GET.get("page"))
    names = _names(request.actor.workspace, request.actor)
    return render(
        request,
        "alerts/detail.html",
        {
            "rule": rule,
            "page": page,
            "what": describe(rule, names),
            "who": who(rule, names),
            "can_edit": request.actor.can(ADMIN),
        },
    )
