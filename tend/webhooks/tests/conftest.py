"""Fixtures for the webhook tests: loopback allowed, short deadlines, and a way to run every
due job — and to skip the retry waits — in this process."""

import pytest
from django.utils import timezone

from tend.jobs.models import Job, JobStatus
from tend.jobs.runner import claim_next, run_job
from tend.webhooks.models import PENDING, Delivery


@pytest.fixture
def loopback_allowed(settings):
    """The receivers run on 127.0.0.1: a self-hoster's allow-list entry lets us reach them."""
    settings.TEND_OUTGOING_ALLOW = "127.0.0.1/32"
    settings.TEND_WEBHOOK_DEADLINE_SECONDS = 0.4


def run_due_jobs(limit: int = 10_000) -> int:
    ran = 0
    while ran < limit:
        job = claim_next("test-worker")
        if job is None:
            return ran
        run_job(job, "test-worker")
        ran += 1
    raise AssertionError("jobs kept coming")


def skip_waits() -> None:
    """Make every waiting retry (and its job) due now: the schedule's hours pass at once."""
    now = timezone.now()
    Delivery.objects.filter(status__in=PENDING, next_attempt_at__gt=now).update(next_attempt_at=now)
    Job.objects.filter(status=JobStatus.QUEUED, due_at__gt=now).update(due_at=now)


def deliver_everything(rounds: int = 20) -> int:
    """Run jobs and skip waits until no delivery is pending; the rounds it took."""
    for round_ in range(1, rounds + 1):
        run_due_jobs()
        if not Delivery.objects.filter(status__in=PENDING).exists():
            return round_
        skip_waits()
    raise AssertionError(f"deliveries still pending after {rounds} rounds")
