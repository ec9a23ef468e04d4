"""Changing digest settings, unsubscribing, and sending one member's digest: the app's one
write path."""

import datetime
import zoneinfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tend.lib.errors import InvalidInput
from tend.outbox.actions import queue_email

from .content import build, local_now, setting_of
from .models import DigestRun, DigestSetting
from .tokens import unsubscribe_token


def _valid_hour(value) -> int:
    if isinstance(value, bool):
        raise InvalidInput("hour", "must be a whole number from 0 to 23")
    try:
        hour = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput("hour", "must be a whole number from 0 to 23") from None
    if not 0 <= hour <= 23:
        raise InvalidInput("hour", "must be a whole number from 0 to 23")
    return hour


def _valid_zone(value) -> str:
    value = (value or "").strip()
    if value and value not in zoneinfo.available_timezones():
        raise InvalidInput(
            "time_zone", f"unknown time zone {value[:64]!r}; use a name such as Europe/Paris"
        )
    return value


def save_settings(member, *, enabled: bool, hour, time_zone: str = "") -> DigestSetting:
    """The member's own digest setting (on/off, local hour, time zone — blank: the workspace's)."""
    hour = _valid_hour(hour)
    time_zone = _valid_zone(time_zone)
    with transaction.atomic():
        setting, _ = DigestSetting.objects.update_or_create(
            member=member,
            defaults={
                "workspace_id": member.workspace_id,
                "enabled": bool(enabled),
                "hour": hour,
                "time_zone": time_zone,
                "updated_at": timezone.now(),
            },
        )
    return setting


def unsubscribe(member) -> DigestSetting:
    """Turn the member's digest off, keeping their hour and time zone for when they turn it on."""
    current = setting_of(member)
    return save_settings(member, enabled=False, hour=current.hour, time_zone=current.time_zone)


def absolute(path: str) -> str:
    return f"{settings.TEND_BASE_URL}{path}"


def render_email(digest) -> dict:
    context = {
        "digest": digest,
        "base": settings.TEND_BASE_URL,
        "home_url": absolute(reverse("web:home")),
        "preview_url": absolute(reverse("digest:preview")),
        "settings_url": absolute(reverse("digest:settings")),
        "unsubscribe_url": absolute(
            reverse("digest:unsubscribe", args=[unsubscribe_token(digest.member)])
        ),
    }
    day = f"{digest.today:%a} {digest.today.day} {digest.today:%b}"
    count = digest.item_count
    return {
        "subject": f"Your Tend digest for {day}: {count} item{'s' if count != 1 else ''}",
        "text": render_to_string("digest/email.txt", context),
        "html": render_to_string("digest/email.html", context),
        # RFC 2369 and RFC 8058: mail clients show an Unsubscribe button that POSTs
        # "List-Unsubscribe=One-Click" to the link, which needs no login (views.unsubscribe_link).
        "headers": {
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    }


def send_digest(member, now: datetime.datetime | None = None) -> DigestRun | None:
    """Send the member's digest for their local today, once.

    1. the member's local day, from their setting's time zone (or the workspace's);
    2. if a run for that day exists, nothing happens (a job that ran twice, a racing worker);
    3. otherwise build the digest over the window since the last one and, when it has
       anything to say, queue the email through the outbox, keyed ``digest:<member>:<day>``;
    4. store the run with its window, in the same transaction as the message.

    Returns the new run, or None when the day's digest was sent (or skipped) already.
    """
    now = now or timezone.now()
    today = local_now(member, now).date()
    if DigestRun.objects.filter(member=member, day=today).exists():
        return None
    digest = build(member, now)
    try:
        with transaction.atomic():
            message = None
            if not digest.is_empty and member.user.email:
                email = render_email(digest)
                message = queue_email(
                    member.workspace,
                    to=[member.user.email],
                    subject=email["subject"],
                    text=email["text"],
                    html=email["html"],
                    source="digest",
                    key=f"digest:{member.pk}:{digest.today.isoformat()}",
                    headers=email["headers"],
                )
            return DigestRun.objects.create(
                workspace_id=member.workspace_id,
                member=member,
                day=digest.today,
                since=digest.since,
                until=digest.until,
                items=digest.item_count,
                message=message,
            )
    except IntegrityError:  # a racing worker stored the day's run first
        return None
