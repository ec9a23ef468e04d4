"""``tend demo`` loads 90 days of usage through ingestion and rolls it up before it ends."""

import collections
import io
import re
import statistics

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from tend.lib.dates import MS_PER_DAY, to_ms
from tend.usage.models import (
    AccountDay,
    AccountUsage,
    IngestCount,
    IngestRejection,
    Metric,
    MetricValue,
    Source,
    UserUsage,
)
from tend.workspaces.models import Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_tend_demo_loads_90_days_of_usage_with_every_metric_ready():
    out = io.StringIO()
    call_command("demo", stdout=out)
    printed = re.search(r"([\d,]+) usage events over 90 days", out.getvalue())
    assert printed, out.getvalue()
    events = int(printed.group(1).replace(",", ""))
    assert 300_000 <= events <= 600_000
    ws = Workspace.objects.get(slug="demo")

    # Everything went through ingestion, nothing was refused, and all of it is rolled up.
    metric_values = MetricValue.objects.filter(workspace=ws).count()
    counts = IngestCount.objects.filter(workspace=ws).aggregate(
        received=Sum("received"), stored=Sum("stored"), rejected=Sum("rejected")
    )
    assert set(IngestCount.objects.filter(workspace=ws).values_list("source", flat=True)) == {
        Source.DEMO
    }
    assert counts == {
        "received": events + metric_values,
        "stored": events + metric_values,
        "rejected": 0,
    }
    assert not IngestRejection.objects.filter(workspace=ws).exists()
    assert AccountDay.objects.filter(workspace=ws).aggregate(n=Sum("events"))["n"] == events
    assert not AccountUsage.objects.filter(workspace=ws, dirty__gt=0).exists()
    assert UserUsage.objects.filter(workspace=ws, events_90d__gt=0).count() > 4000

    usage = AccountUsage.objects.filter(workspace=ws)
    paying = usage.filter(account__status="paying")
    frequencies = collections.Counter(paying.values_list("visit_frequency", flat=True))
    assert set(frequencies) == {"daily", "weekly", "occasionally", "inactive"}
    assert min(frequencies.values()) >= 0.05 * paying.count(), frequencies
    fortnight_ago = to_ms(timezone.now()) - 14 * MS_PER_DAY
    assert paying.filter(last_seen_ms__lt=fortnight_ago).count() >= 0.04 * paying.count()
    assert not usage.filter(account__status="churned", events_14d__gt=0).exists()

    engagement = list(paying.values_list("engagement", flat=True))
    assert 25 <= statistics.median(engagement) <= 75
    assert min(engagement) == 0 and max(engagement) >= 90
    # The demo's "licenses" attribute is the one licence utilisation reads by default.
    active = paying.filter(active_users_14d__gt=0)
    utilisation = list(active.values_list("licence_utilisation", flat=True))
    assert None not in utilisation
    assert 0.3 <= statistics.median(utilisation) <= 0.9
    assert sum("Dashboards" in (m or []) for m in active.values_list("modules_30d", flat=True)) > (
        0.9 * active.count()
    )

    assert set(Metric.objects.filter(workspace=ws).values_list("key", flat=True)) == {
        "api_calls",
        "storage_gb",
    }
    assert metric_values > paying.count() * 2 * 80
