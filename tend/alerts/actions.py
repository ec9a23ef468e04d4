"""The one write path of follows and alert rules."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from tend.accounts.models import AssignmentRole
from tend.alerts import kinds
from tend.alerts.models import AlertRule, Follow
from tend.alerts.signals import forget_cache
from tend.lib.errors import InvalidInput
from tend.lib.outgoing import allow_list_from_settings, check_slack_url, check_url
from tend.lib.outgoing.targets import Refused, parse_url
from tend.segments.models import Segment
from tend.segments.queries import visible_segments
from tend.workspaces.access import ADMIN
from tend.workspaces.models import Member

MAX_PER_HOUR = 1000


# --- Follows ------------------------------------------------------------------------------


def follow(member, *, account=None, segment=None) -> Follow:
    """Follow an account or a segment (already following: the existing follow)."""
    target = {"account": account} if account is not None else {"segment": segment}
    obj = account if account is not None else segment
    if obj is None or obj.workspace_id != member.workspace_id:
        raise InvalidInput("account" if account is not None else "segment", "not found")
    existing = Follow.objects.filter(member=member, **target).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return Follow.objects.create(workspace_id=member.workspace_id, member=member, **target)
    except IntegrityError:
        return Follow.objects.get(member=member, **target)


def unfollow(member, *, account=None, segment=None) -> bool:
    target = {"account": account} if account is not None else {"segment": segment}
    deleted, _ = Follow.objects.filter(member=member, **target).delete()
    return bool(deleted)


# --- Alert rules --------------------------------------------------------------------------


def _self_hosted(url: str) -> bool:
    try:
        target = parse_url(url)
    except Refused:
        return False
    allow = allow_list_from_settings()
    if target.ip is not None:
        return allow.allows_address(target.ip)
    return allow.allows_host(target.host)


def _ids(value, field: str) -> list[int]:
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple):
        raise InvalidInput(field, "expected a list of ids")
    out = []
    for item in value:
        try:
            out.append(int(item))
        except (TypeError, ValueError):
            raise InvalidInput(field, f"{item!r} is not an id") from None
    return sorted(set(out))


def clean_rule(actor, data: dict, rule: AlertRule | None = None) -> dict:
    """Validate a rule's fields (all given on create, any on update); errors name the field."""
    workspace = actor.workspace
    clean = {}
    if rule is None or "name" in data:
        name = (data.get("name") or "").strip()
        if not name:
            raise InvalidInput("name", "is empty")
        if len(name) > 120:
            raise InvalidInput("name", "has more than 120 characters")
        taken = AlertRule.objects.filter(workspace=workspace, name=name)
        if rule is not None:
            taken = taken.exclude(pk=rule.pk)
        if taken.exists():
            raise InvalidInput("name", "another alert rule has this name")
        clean["name"] = name
    if rule is None or "trigger" in data:
        trigger = data.get("trigger")
        if not isinstance(trigger, dict):
            raise InvalidInput("trigger", "expected an object with kind and config")
        clean["trigger_kind"] = trigger.get("kind")
        clean["trigger_config"] = kinds.clean_trigger(
            trigger.get("kind"), trigger.get("config"), workspace
        )
        segment_id = clean["trigger_config"].get("segment_id")
        if segment_id and not visible_segments(actor).filter(pk=segment_id).exists():
            # Another member's private segment: its changes are not the actor's to watch.
            raise InvalidInput("trigger.config.segment_id", f"no segment with id {segment_id}")
    if "roles" in data:
        roles = _ids(data["roles"], "roles")
        known = set(
            AssignmentRole.objects.filter(workspace=workspace, pk__in=roles).values_list(
                "pk", flat=True
            )
        )
        if missing := [r for r in roles if r not in known]:
            raise InvalidInput("roles", f"no assignment role with id {missing[0]}")
        clean["roles"] = roles
    if "members" in data:
        members = _ids(data["members"], "members")
        known = set(
            Member.objects.filter(workspace=workspace, pk__in=members).values_list("pk", flat=True)
        )
        if missing := [m for m in members if m not in known]:
            raise InvalidInput("members", f"no member with id {missing[0]}")
        clean["members"] = members
    for name in ("followers", "in_app", "email", "is_active"):
        if name in data:
            if not isinstance(data[name], bool):
                raise InvalidInput(name, "expected true or false")
            clean[name] = data[name]
    if "slack_url" in data:
        url = (data["slack_url"] or "").strip()
        if url:
            # A Slack incoming webhook, or a host the install allows (a self-hosted chat with
            # Slack-compatible webhooks), as the plays' "Post to Slack" step accepts.
            refusal = check_slack_url(url)
            if refusal and not _self_hosted(url):
                raise InvalidInput("slack_url", refusal)
            refusal = check_url(url)
            if refusal:
                raise InvalidInput("slack_url", refusal)
        clean["slack_url"] = url
    if "max_per_hour" in data:
        value = data["max_per_hour"]
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_PER_HOUR:
            raise InvalidInput("max_per_hour", f"expected a whole number from 1 to {MAX_PER_HOUR}")
        clean["max_per_hour"] = value
    merged = {
        "roles": rule.roles if rule else [],
        "members": rule.members if rule else [],
        "followers": rule.followers if rule else True,
        "in_app": rule.in_app if rule else True,
        "email": rule.email if rule else False,
        "slack_url": rule.slack_url if rule else "",
        **clean,
    }
    if not (merged["roles"] or merged["members"] or merged["followers"] or merged["slack_url"]):
        raise InvalidInput("members", "name who is told: roles, members, followers or a Slack channel")
    if not (merged["in_app"] or merged["email"] or merged["slack_url"]):
        raise InvalidInput("in_app", "choose at least one way to tell: in-app, email or Slack")
    return clean


def _watch_segment(rule: AlertRule) -> None:
    """Segments a rule reads are refreshed at least every minute (like a play's)."""
    segment_id = (rule.trigger_config or {}).get("segment_id")
    if segment_id:
        Segment.objects.filter(workspace=rule.workspace, pk=segment_id).update(
            used_by_automation=True
        )


def _start(rule: AlertRule, now) -> None:
    """Only changes from now on fire: the cursor starts at the newest change row."""
    kind, config = kinds.config_of(rule)
    rule.trigger_cursor, rule.trigger_state = kind.start(rule, config, now)


@transaction.atomic
def create_rule(actor, data: dict) -> AlertRule:
    actor.require(ADMIN)
    clean = clean_rule(actor, data)
    now = timezone.now()
    rule = AlertRule(
        workspace=actor.workspace, created_by=actor.member, created_at=now, updated_at=now, **clean
    )
    _start(rule, now)
    rule.save()
    _watch_segment(rule)
    transaction.on_commit(forget_cache)
    return rule


@transaction.atomic
def update_rule(actor, rule: AlertRule, data: dict) -> AlertRule:
    actor.require(ADMIN)
    clean = clean_rule(actor, data, rule)
    restart = (
        clean.get("trigger_kind", rule.trigger_kind) != rule.trigger_kind
        or clean.get("trigger_config", rule.trigger_config) != rule.trigger_config
        or (clean.get("is_active") and not rule.is_active)
    )
    for name, value in clean.items():
        setattr(rule, name, value)
    now = timezone.now()
    if restart:
        _start(rule, now)
    rule.updated_at = now
    rule.save()
    _watch_segment(rule)
    transaction.on_commit(forget_cache)
    return rule


@transaction.atomic
def delete_rule(actor, rule: AlertRule) -> None:
    actor.require(ADMIN)
    rule.delete()
    transaction.on_commit(forget_cache)
