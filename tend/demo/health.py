"""The demo's health: two profiles with a history of versions, and 90 days of health history.

* **Classic usage rank** — the default every workspace gets (Totango's rule), saved long ago.
* **Paying accounts — usage, engagement, commercial** — a weighted profile assigned by
  condition to paying accounts: usage (active users, active days, licence utilisation),
  engagement, and the commercial side (days to renewal, the trend of API calls). Its first
  version, four months ago, had no API-calls trend; the second added it six weeks ago, so
  account history charts show where the new version took over.

Then the scorer is replayed over the last 90 days on the usage as it was each day
(:func:`tend.health.actions.history.backfill_history`) and today is scored as the continuous
scoring would, so the dashboard's trend, the history charts and the back-test have something
real to show. Everything goes through the health actions; only the dates the versions were
saved are moved back, as :func:`tend.demo.actions._backdate` does for stages.
"""

import datetime

from django.utils import timezone

from tend.health.actions.history import backfill_history
from tend.health.actions.profiles import create_profile, ensure_default_profile, update_profile
from tend.health.actions.scoring import score_workspace
from tend.health.models import HealthProfile, ProfileVersion
from tend.workspaces.access import Actor

HISTORY_DAYS = 90
# Days before the demo's today that each version was saved.
CLASSIC_SAVED = 400
FIRST_VERSION_SAVED = 120
SECOND_VERSION_SAVED = 42

WEIGHTED_NAME = "Paying accounts — usage, engagement, commercial"
WEIGHTED_DESCRIPTION = (
    "Paying customers: are people using it (45%), how engaged are they (30%), and how the "
    "contract looks (25%)."
)
PAYING = {"all": [{"field": "status", "op": "eq", "value": "paying"}]}


def _metric(source: str, label: str, weight: float, **grading) -> dict:
    return {"source": source, "label": label, "weight": weight, **grading}


USAGE = {
    "key": "usage",
    "label": "Usage",
    "weight": 45,
    "metrics": [
        _metric("usage.active_users_14d", "Active users, last 14 days", 30,
                good=3, poor=1, missing="poor"),
        _metric("usage.active_days_14d", "Active days, last 14 days", 35,
                good=6, poor=2, missing="poor"),
        _metric("usage.licence_utilisation", "Licence utilisation", 35, good=0.5, poor=0.2),
    ],
}  # fmt: skip
ENGAGEMENT = {
    "key": "engagement",
    "label": "Engagement",
    "weight": 30,
    "metrics": [
        _metric("usage.engagement", "Engagement", 100,
                grading="linear", low=10, high=70, missing="poor"),
    ],
}  # fmt: skip
RENEWAL = _metric(
    "attributes.renewal_date", "Days to renewal", 100, params={"as": "days_until"}, good=60, poor=14
)
# Over 29 days, the first and the last day of the window are the same weekday: a weekend's
# quieter day is never compared with a weekday.
API_TREND = _metric(
    "metrics.api_calls",
    "API calls, change over 4 weeks (%)",
    60,
    params={"aggregate": "change_pct", "days": 29},
    good=-15,
    poor=-50,
)


def _weighted(commercial: list[dict]) -> dict:
    return {
        "kind": "weighted",
        "dimensions": [
            USAGE,
            ENGAGEMENT,
            {"key": "commercial", "label": "Commercial", "weight": 25, "metrics": commercial},
        ],
        "thresholds": {"good": 70, "poor": 40},
    }


FIRST_VERSION = _weighted([RENEWAL])
SECOND_VERSION = _weighted([{**RENEWAL, "weight": 40}, API_TREND])


def _saved(version: ProfileVersion, midday: datetime.datetime, days_ago: int) -> None:
    moment = midday - datetime.timedelta(days=days_ago)
    ProfileVersion.objects.filter(pk=version.pk).update(created_at=moment)
    if version.number == 1:
        HealthProfile.objects.filter(pk=version.profile_id).update(
            created_at=moment, updated_at=moment
        )


def build_health(actor: Actor, today: datetime.date) -> dict:
    """The profiles, their versions' dates, 90 days of history and today's scores."""
    workspace = actor.workspace
    midday = timezone.make_aware(datetime.datetime.combine(today, datetime.time(12)))
    classic = ensure_default_profile(workspace)
    weighted = create_profile(
        actor,
        {
            "name": WEIGHTED_NAME,
            "description": WEIGHTED_DESCRIPTION,
            "condition": PAYING,
            "definition": FIRST_VERSION,
            "note": "Usage, engagement and renewal for paying accounts",
        },
    )
    first = weighted.current_version
    update_profile(
        actor,
        weighted,
        {"definition": SECOND_VERSION, "note": "Added the trend of API calls to Commercial"},
    )
    weighted.refresh_from_db()
    _saved(classic.current_version, midday, CLASSIC_SAVED)
    _saved(first, midday, FIRST_VERSION_SAVED)
    _saved(weighted.current_version, midday, SECOND_VERSION_SAVED)
    history = backfill_history(workspace, HISTORY_DAYS)
    run = score_workspace(workspace)
    return {
        "health_snapshots": history.snapshots + run.changed,
        "rank_changes": history.rank_changes + run.rank_changes,
        "health_seconds": history.seconds + run.seconds,
    }
