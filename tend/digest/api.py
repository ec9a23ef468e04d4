"""``/digest``: the calling member's digest settings and today's preview (for a token, its
creator's). Reading and changing one's own digest needs the read scope only, as marking
one's own notifications read does: it changes only what the member is sent."""

import datetime

from django.utils import timezone
from ninja import Field, Router, Schema

from tend.lib.api_schemas import ERRORS, Strict
from tend.notifications.queries import member_of

from .actions import save_settings
from .content import build, setting_of

router = Router(tags=["digest"])


class DigestSettingsOut(Schema):
    enabled: bool
    hour: int = Field(..., description="Local hour the digest is sent, 0–23.")
    time_zone: str = Field(..., description="The member's zone; empty: the workspace's.")
    effective_time_zone: str


class DigestSettingsIn(Strict):
    enabled: bool
    hour: int = Field(..., description="0–23")
    time_zone: str = Field(
        "", description="An IANA zone such as Europe/Paris; empty: the workspace's."
    )


class DigestPreviewOut(Schema):
    today: datetime.date
    since: datetime.datetime
    until: datetime.datetime
    items: list[str] = Field(..., description="Every item as one line, in the email's order.")
    truncated: bool


def _settings_out(member) -> dict:
    setting = setting_of(member)
    return {
        "enabled": setting.enabled,
        "hour": setting.hour,
        "time_zone": setting.time_zone,
        "effective_time_zone": setting.time_zone or member.workspace.time_zone or "UTC",
    }


@router.get(
    "/digest/settings", response={200: DigestSettingsOut, **ERRORS}, summary="My digest settings"
)
def get_settings(request):
    return _settings_out(member_of(request.auth))


@router.put(
    "/digest/settings",
    response={200: DigestSettingsOut, **ERRORS},
    summary="Change my digest settings",
)
def put_settings(request, data: DigestSettingsIn):
    """Turn the daily digest on or off, and choose its local hour and time zone."""
    member = member_of(request.auth)
    save_settings(member, enabled=data.enabled, hour=data.hour, time_zone=data.time_zone)
    return _settings_out(member)


@router.get(
    "/digest/preview", response={200: DigestPreviewOut, **ERRORS}, summary="Preview my digest"
)
def preview(request):
    """What today's digest would contain if it were sent now."""
    digest = build(member_of(request.auth), timezone.now())
    return {
        "today": digest.today,
        "since": digest.since,
        "until": digest.until,
        "items": digest.lines(),
        "truncated": digest.truncated,
    }
