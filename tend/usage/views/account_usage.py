"""The usage panel of the account profile: key figures, time frames, a 90-day chart of
activity and active users, activity by module, and custom metrics.

The panel is rendered inside the profile (``usage_panel`` is its context). Its switch
"This account / Including child accounts" asks :func:`usage_fragment` for the panel again
in the other scope; the end-user and activity panels come along out of band, so all three
always show the same accounts. Without JavaScript the switch is a link to the profile.
"""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from tend.accounts.views.accounts.common import account_for, member_required
from tend.lib.dates import date_of
from tend.usage.display import duration, exact_time, local_time, relative_time
from tend.usage.queries import account_metric_series, usage_summary
from tend.usage.views.account_activity import activity_panel
from tend.usage.views.account_scope import scope_for
from tend.usage.views.account_users import users_panel

# Small charts of custom metrics on the panel; every metric is in the API.
METRIC_CHARTS = 6
MODULE_BARS = 12


def _daily_chart(summary) -> dict:
    return {
        "dates": [d.date.isoformat() for d in summary.daily],
        "labels": [f"{d.date:%b} {d.date.day}" for d in summary.daily],
        "events": [d.events for d in summary.daily],
        "users": [d.active_users for d in summary.daily],
    }


def _modules_chart(summary) -> dict:
    modules = summary.modules[:MODULE_BARS]
    return {
        # Bars read top-down busiest first; ECharts draws a category axis bottom-up.
        "names": [m.module or "(no module)" for m in reversed(modules)],
        "keys": [m.module for m in reversed(modules)],
        "events": [m.events for m in reversed(modules)],
    }


def _metric_chart(series) -> dict:
    days = range(series.first_day, series.last_day + 1)
    return {
        "label": series.metric.label,
        "labels": [f"{date_of(d):%b} {date_of(d).day}" for d in days],
        "values": series.dense(),
    }


def _figures(summary, time_zone: str) -> dict:
    windows = {w.key: w for w in summary.windows}
    return {
        "last_seen": relative_time(summary.last_seen_ms, time_zone),
        "last_seen_exact": exact_time(summary.last_seen_ms, time_zone),
        "first_seen_exact": exact_time(summary.first_seen_ms, time_zone),
        "first_seen_date": (
            local_time(summary.first_seen_ms, time_zone).date()
            if summary.first_seen_ms is not None
            else None
        ),
        "active_users_7d": windows["7d"].active_users,
        "active_users_14d": windows["14d"].active_users,
        "active_users_30d": windows["30d"].active_users,
        "utilisation_percent": (
            round(summary.licence_utilisation * 100)
            if summary.licence_utilisation is not None
            else None
        ),
    }


def usage_panel(request, account) -> dict:
    """The usage panel's context (one query when the account has no usage yet)."""
    scope = scope_for(request, account)
    context = {
        "scope": scope,
        "account": account,
        "ingestion_url": reverse("usage:ingestion"),
        "switch_urls": {
            "account": scope_switch_urls(scope, include_children=False),
            "children": scope_switch_urls(scope, include_children=True),
        },
    }
    if not scope.has_usage:
        return context
    workspace = scope.workspace
    summary = usage_summary(workspace, account, scope.tree, include_children=scope.include_children)
    series, metric_total = account_metric_series(workspace, scope.ids, summary.today, METRIC_CHARTS)
    context.update(
        summary=summary,
        time_zone=workspace.time_zone or "UTC",
        figures=_figures(summary, workspace.time_zone),
        rows=[
            {
                "label": w.label,
                "events": w.events,
                "active_users": w.active_users,
                "time": duration(w.seconds),
            }
            for w in summary.windows
        ],
        daily_chart=_daily_chart(summary),
        modules_chart=_modules_chart(summary),
        modules_height=48 + 26 * len(summary.modules[:MODULE_BARS]),
        metrics=[
            {
                "series": s,
                "chart": _metric_chart(s),
                "latest": s.latest,
                "json_id": f"usage-metric-{number}",
            }
            for number, s in enumerate(series, start=1)
        ],
        metric_total=metric_total,
    )
    return context


def scope_switch_urls(scope, *, include_children: bool) -> dict:
    """Where a switch to a scope goes: the fragment for htmx, the profile without it."""
    param = {"scope": "children"} if include_children else {}
    fragment = reverse("usage:panel", args=[scope.account.pk])
    profile = reverse("accounts:profile", args=[scope.account.pk])
    query = "?scope=children" if param else ""
    return {"fragment": fragment + query, "page": profile + query + "#usage"}


@member_required
@require_GET
def usage_fragment(request, account_id: int):
    """The three usage panels in the scope asked for (htmx); the profile otherwise."""
    account = account_for(request, account_id)
    if not request.htmx:
        scope = scope_for(request, account)
        return redirect(scope.profile_url())
    context = {
        "account": account,
        "panel": usage_panel(request, account),
        "users": users_panel(request, account),
        "activity": activity_panel(request, account),
    }
    response = render(request, "usage/scope_swap.html", context)
    # The address bar follows the switch, so a reload shows the same scope.
    push_url(response, context["panel"]["scope"].profile_url().split("#")[0])
    patch_vary_headers(response, ("HX-Request",))
    return response
