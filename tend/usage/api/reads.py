"""Reading usage back: an account's and an end user's figures, the event log, custom metrics.

Token scope ``read`` (or a session). Accounts and end users are fetched through the access
chokepoint, so another workspace's id is a 404. Figures come from the rollups and metric
rows (``tend.usage.queries``); only ``GET /events`` reads raw events, through
``queries.recent_events``.

``GET /events`` and ``GET /metrics`` share their paths with the ingestion ``POST``\\ s, and
Django answers a path from the first URL pattern that matches it: Ninja makes one pattern
per path *per router*, so those two ``GET``\\ s are added to the ingestion router, where
each path already has its pattern. The other reads live on this module's router.
"""

import datetime
from typing import Any, Literal

from django.conf import settings
from django.http import Http404
from ninja import Field, Query, Router, Schema

from tend.accounts.api.common import page_by_id
from tend.accounts.models import Account, EndUser
from tend.accounts.schemas import ErrorOut
from tend.lib.dates import date_of, from_ms
from tend.usage import queries
from tend.usage.api.events import router as ingestion_router
from tend.usage.models import Metric
from tend.workspaces.access import READ, get_for

router = Router(tags=["usage"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
Frequency = Literal["daily", "weekly", "occasionally", "inactive"]
MAX_SERIES_DAYS = 400


def _iso(ms: int | None) -> datetime.datetime | None:
    return from_ms(ms) if ms is not None else None


# --- schemas --------------------------------------------------------------------------------


class Windows(Schema):
    """Events, seconds spent and distinct active end users per window. Windows are whole
    days in the workspace's time zone ending on ``as_of``: ``3d`` is today and the two days
    before."""

    events_today: int
    events_yesterday: int
    events_3d: int
    events_7d: int
    events_14d: int
    events_30d: int
    events_90d: int
    seconds_today: float
    seconds_yesterday: float
    seconds_3d: float
    seconds_7d: float
    seconds_14d: float
    seconds_30d: float
    seconds_90d: float


class ModuleOut(Schema):
    module: str = Field(..., description="Empty for events sent without a module.")
    events: int
    seconds: float


class AccountUsageOut(Windows):
    account_id: int
    external_id: str
    include_children: bool
    accounts_included: int = Field(
        ..., description="How many accounts the figures cover (1 without include_children)."
    )
    as_of: datetime.date = Field(..., description="The local date the windows end on.")
    time_zone: str
    first_seen: datetime.datetime | None
    last_seen: datetime.datetime | None
    active_users_today: int
    active_users_yesterday: int
    active_users_3d: int
    active_users_7d: int
    active_users_14d: int
    active_users_30d: int
    active_users_90d: int
    active_days_14d: int = Field(..., description="Days with activity among the last 14.")
    visit_frequency: Frequency
    engagement: int = Field(
        ...,
        ge=0,
        le=100,
        description="0–100 (docs/usage.md); with children, weighted by each account's events in 14 days.",
    )
    licences: float | None = Field(None, description="From the licence attribute, when set.")
    licence_utilisation: float | None = Field(
        None, description="Active users in 14 days ÷ licences, when licences are known."
    )
    modules: list[ModuleOut] = Field(..., description="Modules used in the last 30 days.")


class UserUsageOut(Windows):
    end_user_id: int
    external_id: str
    account_id: int | None
    account_external_id: str | None
    as_of: datetime.date
    time_zone: str
    first_seen: datetime.datetime | None
    last_seen: datetime.datetime | None
    active_days_14d: int
    visit_frequency: Frequency


class EventOut(Schema):
    id: int
    timestamp: datetime.datetime
    account_id: int
    account_external_id: str
    end_user_id: int | None
    user_external_id: str | None = Field(
        None, description="Null when the event named no user, or the user was deleted since."
    )
    activity: str
    module: str
    duration_seconds: float | None
    properties: dict[str, Any] | None
    source: str
    message_id: str


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


class EventFilters(Schema):
    account_external_id: str | None = Field(None, max_length=255)
    user_external_id: str | None = Field(None, max_length=255)
    module: str | None = Field(None, max_length=200)
    activity: str | None = Field(None, max_length=200)
    limit: int = Field(settings.TEND_PAGE_SIZE_DEFAULT, ge=1, le=settings.TEND_PAGE_SIZE_MAX)
    cursor: str | None = Field(None, max_length=500, description="next_cursor of the last page.")


class SeriesParams(Schema):
    days: int = Field(90, ge=1, le=MAX_SERIES_DAYS)
    include_children: bool = False


class PointOut(Schema):
    date: datetime.date
    value: float


class MetricSeriesOut(Schema):
    metric: str
    label: str
    account_id: int
    include_children: bool
    start: datetime.date
    end: datetime.date
    points: list[PointOut] = Field(..., description="Days with a value, oldest first.")


class MetricOut(Schema):
    key: str
    label: str
    created_at: datetime.datetime


class MetricPage(Schema):
    items: list[MetricOut]
    next_cursor: str | None


class MetricListParams(Schema):
    limit: int = Field(settings.TEND_PAGE_SIZE_DEFAULT, ge=1, le=settings.TEND_PAGE_SIZE_MAX)
    cursor: str | None = Field(None, max_length=500)


# --- handlers -------------------------------------------------------------------------------


def _windows(windows) -> dict:
    values = {}
    for window in windows:
        values[f"events_{window.key}"] = window.events
        values[f"seconds_{window.key}"] = round(window.seconds, 3)
    return values


@router.get(
    "/accounts/{int:id}/usage",
    response={200: AccountUsageOut, **ERRORS},
    summary="Get an account's usage",
    description=(
        "Events, time spent and active users over today, yesterday and the last 3, 7, 14, 30 "
        "and 90 days, first and last seen, visit frequency, engagement, licence utilisation "
        "and modules used. With `include_children=true`, the account and its descendants "
        "(up to 10 levels) together, each end user counted once."
    ),
)
def account_usage(request, id: int, include_children: bool = False):
    actor = request.auth
    account = get_for(actor, Account, READ, pk=id)
    workspace = actor.workspace
    tree = queries.account_tree(account, depth=queries.MAX_DEPTH if include_children else 0)
    summary = queries.usage_summary(workspace, account, tree, include_children=include_children)
    return {
        "account_id": account.pk,
        "external_id": account.external_id,
        "include_children": include_children,
        "accounts_included": summary.accounts,
        "as_of": summary.as_of,
        "time_zone": workspace.time_zone or "UTC",
        "first_seen": _iso(summary.first_seen_ms),
        "last_seen": _iso(summary.last_seen_ms),
        **_windows(summary.windows),
        **{f"active_users_{w.key}": w.active_users for w in summary.windows},
        "active_days_14d": summary.active_days_14d,
        "visit_frequency": summary.visit_frequency,
        "engagement": summary.engagement,
        "licences": summary.licences,
        "licence_utilisation": summary.licence_utilisation,
        "modules": [
            {"module": m.module, "events": m.events, "seconds": round(m.seconds, 3)}
            for m in summary.modules
        ],
    }


@router.get(
    "/users/{int:id}/usage",
    response={200: UserUsageOut, **ERRORS},
    summary="Get an end user's usage",
    description="The end user's events and time per window (across every account they used), "
    "first and last seen, and visit frequency.",
)
def end_user_usage(request, id: int):
    actor = request.auth
    person = get_for(actor, EndUser.objects.select_related("account"), READ, pk=id)
    summary = queries.user_summary(actor.workspace, person)
    return {
        "end_user_id": person.pk,
        "external_id": person.external_id,
        "account_id": person.account_id,
        "account_external_id": person.account.external_id if person.account else None,
        "as_of": summary.as_of,
        "time_zone": actor.workspace.time_zone or "UTC",
        "first_seen": _iso(summary.first_seen_ms),
        "last_seen": _iso(summary.last_seen_ms),
        **_windows(summary.windows),
        "active_days_14d": summary.active_days_14d,
        "visit_frequency": summary.visit_frequency,
    }


@ingestion_router.get(
    "/events",
    response={200: EventPage, **ERRORS},
    tags=["usage"],
    summary="List events",
    description=(
        "Raw events, newest first, cursor-paginated (pass `next_cursor` as `cursor` until it "
        "is null). With `account_external_id`, ordered by event time then id; without it, by "
        "arrival. An unknown account or user external id matches no events."
    ),
)
def list_events(request, filters: Query[EventFilters]):
    actor = request.auth
    actor.require(READ)
    workspace = actor.workspace
    account_ids = end_user_id = None
    if filters.account_external_id is not None:
        account_ids = list(
            Account.objects.filter(
                workspace=workspace, external_id=filters.account_external_id
            ).values_list("id", flat=True)
        )
    if filters.user_external_id is not None:
        end_user_id = (
            EndUser.objects.filter(workspace=workspace, external_id=filters.user_external_id)
            .values_list("id", flat=True)
            .first()
        )
        if end_user_id is None:
            return {"items": [], "next_cursor": None}
    page = queries.recent_events(
        workspace,
        account_ids=account_ids,
        end_user_id=end_user_id,
        module=filters.module,
        activity=filters.activity,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {
        "items": [
            {
                "id": e.id,
                "timestamp": from_ms(e.ts),
                "account_id": e.account_id,
                "account_external_id": e.account.external_id,
                "end_user_id": e.end_user_id,
                "user_external_id": e.end_user.external_id if e.end_user else None,
                "activity": e.activity,
                "module": e.module,
                "duration_seconds": e.duration,
                "properties": e.properties,
                "source": e.source,
                "message_id": e.message_id,
            }
            for e in page.events
        ],
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/accounts/{int:id}/metrics/{metric}",
    response={200: MetricSeriesOut, **ERRORS},
    summary="Get a custom metric's daily series for an account",
    description="Values per local day over the last `days` days (ending today), only the "
    "days that have one; `metric` is the metric's key. With `include_children=true`, the "
    "values of the account and its descendants are summed per day.",
)
def account_metric(request, id: int, metric: str, params: Query[SeriesParams]):
    actor = request.auth
    account = get_for(actor, Account, READ, pk=id)
    workspace = actor.workspace
    found = Metric.objects.filter(workspace=workspace, key=metric).first()
    if found is None:
        raise Http404(f"No metric with key {metric!r}.")
    ids = [account.pk]
    if params.include_children:
        ids = queries.account_tree(account).ids(include_children=True)
    t = queries.local_today(workspace)
    series = queries.metric_series(workspace, found, ids, t, params.days)
    return {
        "metric": found.key,
        "label": found.label,
        "account_id": account.pk,
        "include_children": params.include_children,
        "start": date_of(series.first_day),
        "end": date_of(series.last_day),
        "points": [{"date": day, "value": value} for day, value in series.points],
    }


@ingestion_router.get(
    "/metrics",
    response={200: MetricPage, **ERRORS},
    tags=["usage"],
    summary="List custom metrics",
    description="The workspace's custom metrics (created by `POST /metrics` and Planhat "
    "dimension data), in the order they were created.",
)
def list_metrics(request, params: Query[MetricListParams]):
    actor = request.auth
    actor.require(READ)
    metrics, next_cursor = page_by_id(
        Metric.objects.filter(workspace=actor.workspace), params.cursor, params.limit
    )
    return {
        "items": [{"key": m.key, "label": m.label, "created_at": m.created_at} for m in metrics],
        "next_cursor": next_cursor,
    }
