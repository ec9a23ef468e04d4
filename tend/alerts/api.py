"""``/alert-rules`` (admins write; any reader lists) and follows: ``/follows`` and
``/accounts/{id}/follow``, ``/segments/{id}/follow`` (the caller's own; for a token, its
creator's). Another workspace's ids are 404."""

import datetime
from typing import Any

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tend.accounts.models import Account
from tend.alerts.actions import create_rule, delete_rule, follow, unfollow, update_rule
from tend.alerts.models import AlertRule
from tend.alerts.queries import firing_counts, follows_of, rule_for
from tend.lib.api_schemas import ERRORS, PageFilters
from tend.lib.cursor import encode_cursor, id_cursor, id_page
from tend.notifications.queries import member_of
from tend.segments.queries import get_segment
from tend.workspaces.access import ADMIN, get_for

router = Router(tags=["alerts"])


class TriggerIn(Schema):
    kind: str = Field(..., description="health_changed, segment_entered, status_changed, usage_dropped …")
    config: dict[str, Any] = Field(default_factory=dict)


class RuleIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    trigger: TriggerIn
    roles: list[int] = Field(default_factory=list, description="Assignment role ids.")
    members: list[int] = Field(default_factory=list, description="Member ids.")
    followers: bool = True
    in_app: bool = True
    email: bool = False
    slack_url: str = Field("", max_length=2048)
    max_per_hour: int = Field(10, ge=1, le=1000)
    is_active: bool = True


class RulePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=120)
    trigger: TriggerIn | None = None
    roles: list[int] | None = None
    members: list[int] | None = None
    followers: bool | None = None
    in_app: bool | None = None
    email: bool | None = None
    slack_url: str | None = Field(None, max_length=2048)
    max_per_hour: int | None = Field(None, ge=1, le=1000)
    is_active: bool | None = None


class RuleOut(Schema):
    id: int
    name: str
    is_active: bool
    trigger: TriggerIn
    roles: list[int]
    members: list[int]
    followers: bool
    in_app: bool
    email: bool
    slack: bool = Field(..., description="Whether it posts to Slack (the URL is not shown).")
    max_per_hour: int
    sent_24h: int
    suppressed_24h: int = Field(..., description="Alerts held back by the rate limit.")
    polled_at: datetime.datetime | None
    created_at: datetime.datetime


class RulePage(Schema):
    items: list[RuleOut]
    next_cursor: str | None


class FollowOut(Schema):
    id: int
    account_id: int | None
    segment_id: int | None
    name: str
    created_at: datetime.datetime


class FollowPage(Schema):
    items: list[FollowOut]
    next_cursor: str | None


def rule_out(rule: AlertRule, counts: dict) -> dict:
    c = counts.get(rule.pk, {})
    return {
        "id": rule.pk,
        "name": rule.name,
        "is_active": rule.is_active,
        "trigger": {"kind": rule.trigger_kind, "config": rule.trigger_config},
        "roles": rule.roles,
        "members": rule.members,
        "followers": rule.followers,
        "in_app": rule.in_app,
        "email": rule.email,
        "slack": bool(rule.slack_url),
        "max_per_hour": rule.max_per_hour,
        "sent_24h": c.get("sent", 0),
        "suppressed_24h": c.get("suppressed", 0),
        "polled_at": rule.polled_at,
        "created_at": rule.created_at,
    }


def _one(rule):
    return rule_out(rule, firing_counts(rule.workspace, [rule.pk]))


@router.get("/alert-rules", response={200: RulePage, **ERRORS}, summary="List alert rules")
def list_rules(request, filters: Query[PageFilters]):
    actor = request.auth
    rows = AlertRule.objects.filter(workspace=actor.workspace)
    found, next_cursor = id_page(rows, filters.cursor, filters.limit)
    counts = firing_counts(actor.workspace, [r.pk for r in found])
    return {"items": [rule_out(r, counts) for r in found], "next_cursor": next_cursor}


@router.post("/alert-rules", response={201: RuleOut, **ERRORS}, summary="Create an alert rule")
def post_rule(request, payload: RuleIn):
    rule = create_rule(request.auth, payload.model_dump())
    return Status(201, _one(rule))


@router.get("/alert-rules/{int:rule_id}", response={200: RuleOut, **ERRORS}, summary="Get an alert rule")
def get_rule(request, rule_id: int):
    return _one(rule_for(request.auth, rule_id))


@router.patch("/alert-rules/{int:rule_id}", response={200: RuleOut, **ERRORS}, summary="Change an alert rule")
def patch_rule(request, rule_id: int, payload: RulePatch):
    rule = rule_for(request.auth, rule_id, ADMIN)
    return _one(update_rule(request.auth, rule, payload.model_dump(exclude_unset=True)))


@router.delete("/alert-rules/{int:rule_id}", response={204: None, **ERRORS}, summary="Delete an alert rule")
def remove_rule(request, rule_id: int):
    delete_rule(request.auth, rule_for(request.auth, rule_id, ADMIN))
    return Status(204, None)


def follow_out(f) -> dict:
    target = f.account or f.segment
    return {
        "id": f.pk,
        "account_id": f.account_id,
        "segment_id": f.segment_id,
        "name": target.name,
        "created_at": f.created_at,
    }


@router.get("/follows", response={200: FollowPage, **ERRORS}, summary="List what I follow")
def list_follows(request, filters: Query[PageFilters]):
    rows = follows_of(member_of(request.auth)).select_related("account", "segment")
    before = id_cursor(filters.cursor, "before")
    if before is not None:
        rows = rows.filter(id__lt=before)
    found = list(rows.order_by("-id")[: filters.limit + 1])
    more = len(found) > filters.limit
    found = found[: filters.limit]
    return {
        "items": [follow_out(f) for f in found],
        "next_cursor": encode_cursor({"before": found[-1].pk}) if more else None,
    }


@router.put("/accounts/{int:account_id}/follow", response={200: FollowOut, **ERRORS}, summary="Follow an account")
def follow_account(request, account_id: int):
    account = get_for(request.auth, Account, pk=account_id)
    return follow_out(follow(member_of(request.auth), account=account))


@router.delete("/accounts/{int:account_id}/follow", response={204: None, **ERRORS}, summary="Unfollow an account")
def unfollow_account(request, account_id: int):
    account = get_for(request.auth, Account, pk=account_id)
    unfollow(member_of(request.auth), account=account)
    return Status(204, None)


@router.put("/segments/{int:segment_id}/follow", response={200: FollowOut, **ERRORS}, summary="Follow a segment")
def follow_segment(request, segment_id: int):
    segment = get_segment(request.auth, segment_id)
    return follow_out(follow(member_of(request.auth), segment=segment))


@router.delete("/segments/{int:segment_id}/follow", response={204: None, **ERRORS}, summary="Unfollow a segment")
def unfollow_segment(request, segment_id: int):
    segment = get_segment(request.auth, segment_id)
    unfollow(member_of(request.auth), segment=segment)
    return Status(204, None)
