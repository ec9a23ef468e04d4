"""``tend demo`` loads six months of usage through ingestion and rolls it up, replays the
status history of converted and churned customers, and gives health two profiles and 90 days
of history — one full build, checked part by part."""

import collections
import datetime
import io
import re
import statistics

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from tend.accounts.models import Account, StatusChange
from tend.demo import health
from tend.health.actions.profiles import DEFAULT_NAME
from tend.health.backtest import backtest
from tend.health.models import AccountHealth, HealthChange, HealthProfile, HealthSnapshot
from tend.lib.dates import MS_PER_DAY, day_number, to_ms
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


def test_tend_demo_loads_usage_status_history_and_health():
    out = io.StringIO()
    call_command("demo", stdout=out)
    printed = re.search(r"([\d,]+) usage events over 180 days", out.getvalue())
    assert printed, out.getvalue()
    assert "90 days of health history" in out.getvalue()
    events = int(printed.group(1).replace(",", ""))
    assert 700_000 <= events <= 1_000_000
    ws = Workspace.objects.get(slug="demo")
    check_usage(ws, events)
    check_status_history(ws)
    check_health(ws)
    check_backtest(ws)


def check_usage(ws, events: int):

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


def check_status_history(ws):
    """Churned customers changed status through the bulk upsert, dated when they churned."""
    churned = Account.objects.filter(workspace=ws, status="churned")
    changes = StatusChange.objects.filter(workspace=ws, to_status="churned")
    assert changes.count() == churned.count()
    assert set(changes.values_list("source", flat=True)) == {"demo"}
    for change in changes.select_related("account"):
        renewal = datetime.date.fromisoformat(change.account.attributes["renewal_date"])
        assert change.changed_at.date() == renewal
        assert change.from_status == "paying"
    assert StatusChange.objects.filter(workspace=ws, from_status="trial", to_status="paying")


def check_health(ws):
    """Two profiles (the weighted one for paying accounts, in two versions), every account
    scored by the right one, and 90 days of history."""
    today = day_number(timezone.localdate())
    classic, weighted = HealthProfile.objects.filter(workspace=ws).order_by("-is_default")
    assert (classic.name, weighted.name) == (DEFAULT_NAME, health.WEIGHTED_NAME)
    assert weighted.condition == health.PAYING
    versions = list(weighted.versions.order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert [(timezone.localdate() - v.created_at.date()).days for v in versions] == [
        health.FIRST_VERSION_SAVED,
        health.SECOND_VERSION_SAVED,
    ]
    scored = AccountHealth.objects.filter(workspace=ws)
    assert scored.count() == Account.objects.filter(workspace=ws).count()
    assert set(scored.filter(account__status="paying").values_list("profile", flat=True)) == {
        weighted.pk
    }
    assert set(scored.exclude(account__status="paying").values_list("profile", flat=True)) == {
        classic.pk
    }
    paying = collections.Counter(
        scored.filter(account__status="paying").values_list("rank", flat=True)
    )
    assert set(paying) == {"good", "average", "poor"}
    assert paying["good"] > paying["poor"]
    days = set(HealthSnapshot.objects.filter(workspace=ws).values_list("day", flat=True))
    assert min(days) == today - health.HISTORY_DAYS
    assert len(days) > 60  # ranks move on most days somewhere in 500 accounts
    changes = HealthChange.objects.filter(workspace=ws)
    assert changes.filter(from_rank__isnull=False).count() > 500
    # The second version took over on the day it was saved.
    switched = today - health.SECOND_VERSION_SAVED
    assert HealthSnapshot.objects.filter(workspace=ws, day=switched, version=versions[1]).exists()
    assert not HealthSnapshot.objects.filter(workspace=ws, day__lt=switched, version=versions[1])


def check_backtest(ws):
    """Most churned accounts were Poor or Average 30 days before they churned, and both
    profiles tell them from the accounts that stayed far better than a coin toss."""
    classic, weighted = HealthProfile.objects.filter(workspace=ws).order_by("-is_default")
    report = backtest(classic, days_before=30)
    assert report.compared_churned >= 25
    ranks = report.churned_ranks
    assert ranks["poor"] + ranks["average"] >= 0.6
    assert report.auc >= 0.75
    assert report.false_alarm_rate <= 0.15
    assert report.best.source.startswith("usage.")
    earlier = backtest(classic, days_before=90)
    assert earlier.compared_churned >= 10 and earlier.auc < report.auc
    weighted_report = backtest(weighted, days_before=30)
    assert weighted_report.auc >= 0.85
    assert weighted_report.churned_ranks["good"] <= 0.2
    assert not weighted_report.best.read_as_now
    assert weighted_report.from_snapshots > 0
