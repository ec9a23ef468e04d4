"""The digest's jobs: find the members whose local digest hour has come, and send each one's
digest (``send_digest`` is idempotent per member and local day)."""

import datetime

from django.utils import timezone

from tend.jobs.registry import enqueue, job
from tend.workspaces.models import Member

from .actions import send_digest
from .content import local_now, setting_of
from .models import DigestRun

SEND_JOB = "digest.send"


def due_members(now: datetime.datetime) -> list[tuple[Member, datetime.date]]:
    """(member, local day) for every active member with the digest on, whose local hour has
    come today and who has no run for that day yet. Two queries."""
    members = (
        Member.objects.filter(is_active=True, user__is_active=True)
        .exclude(user__email="")
        .exclude(digest_setting__enabled=False)
        .select_related("workspace", "digest_setting")
        .order_by("pk")
    )
    due = []
    for member in members:
        setting = setting_of(member)
        local = local_now(member, now, setting)
        if local.hour >= setting.hour:
            due.append((member, local.date()))
    if not due:
        return []
    first = min(day for _, day in due)
    done = set(
        DigestRun.objects.filter(day__gte=first, member_id__in=[m.pk for m, _ in due]).values_list(
            "member_id", "day"
        )
    )
    return [(m, day) for m, day in due if (m.pk, day) not in done]


@job("digest.send_due", max_attempts=3, lease_seconds=300)
def send_due(job_row) -> None:
    """Every few minutes (tend/schedule.py): one send job per member whose hour has come."""
    for member, day in due_members(timezone.now()):
        enqueue(
            SEND_JOB,
            {"member_id": member.pk},
            workspace_id=member.workspace_id,
            unique_key=f"digest:{member.pk}:{day.isoformat()}",
        )


@job(SEND_JOB, max_attempts=5, lease_seconds=120)
def send(job_row) -> None:
    member = (
        Member.objects.filter(pk=job_row.payload["member_id"], is_active=True)
        .select_related("workspace", "user")
        .first()
    )
    if member is None:
        return
    setting = setting_of(member)
    if not setting.enabled:  # turned off since the job was queued
        return
    send_digest(member)
