"""Reading health through the API: explanation, history, overview, recompute."""

import datetime

import pytest
from django.utils import timezone

from tend.accounts.models import Account, AccountStatus
from tend.health.actions.scoring import score_workspace
from tend.health.models import AccountHealth, HealthSnapshot
from tend.lib.dates import day_number, to_ms
from tend.usage.actions.ingest import ingest
from tend.usage.ingest.facts import EventFact, Intake
from tend.usage.models import Source
from tend.usage.rollups import roll_up

pytestmark = pytest.mark.django_db
NOW = timezone.now()


@pytest.fixture
def scored(workspace):
    facts = []
    for account, days in (("busy", (0, 1, 2, 3)), ("light", (2,)), ("gone", (40,))):
        for d in days:
            facts.append(
                EventFact(
                    len(facts),
                    account,
                    "u",
                    "Logged in",
                    "",
                    to_ms(NOW - datetime.timedelta(days=d)),
                )
            )
    ingest(workspace, Intake(source=Source.API, received=len(facts), events=facts))
    roll_up()
    Account.objects.filter(external_id__in=["busy", "light"]).update(status=AccountStatus.PAYING)
    score_workspace(workspace)
    return {a.external_id: a for a in Account.objects.all()}


def test_the_explanation_adds_up_to_the_stored_rank(owner, scored):
    light = scored["light"]
    body = owner.api.get(f"/api/v1/accounts/{light.pk}/health").json()
    assert (body["rank"], body["score"]) == ("average", 60.0)
    assert AccountHealth.objects.get(account=light).rank == body["rank"]
    assert body["profile"]["name"] == "Classic usage rank" and body["version"]["number"] == 1
    metric = body["dimensions"][0]["metrics"][0]
    assert (metric["source"], metric["value"], metric["grade"]) == (
        "usage.active_days_14d",
        1.0,
        "average",
    )
    assert body["to_next_rank"] == [
        {
            "metric": "rules.0",
            "label": "Active days, last 14 days",
            "from": 1.0,
            "to": 4.0,
            "rank": "good",
        }
    ]


def test_history_fills_each_day_with_the_latest_snapshot(owner, scored):
    busy = scored["busy"]
    today = day_number(timezone.localdate())
    HealthSnapshot.objects.filter(account=busy).update(day=today - 2)
    body = owner.api.get(f"/api/v1/accounts/{busy.pk}/health/history?days=4").json()
    assert [p["rank"] for p in body["points"]] == [None, "good", "good", "good"]
    assert [c["to_rank"] for c in body["changes"]] == ["good"]
    bad = owner.api.get(f"/api/v1/accounts/{busy.pk}/health/history?days=0")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "days"


def test_the_overview_counts_paying_accounts_and_keeps_the_others_apart(viewer, scored):
    body = viewer.api.get("/api/v1/health").json()
    assert body["paying"] == {"good": 1, "average": 1, "poor": 0, "unscored": 0}
    assert body["population_score"] == 75.0  # (100 + 50) / 2
    assert body["other_statuses"] == {"trial": {"poor": 1}}


def test_recompute_is_for_admins_and_answers_when_done(owner, viewer, scored):
    assert viewer.api.post("/api/v1/health/recompute").status_code == 403
    body = owner.api.post("/api/v1/health/recompute").json()
    assert body["accounts"] == 3 and body["changed"] == 0
    assert body["distribution"] == {"good": 1, "average": 1, "poor": 1, "unscored": 0}


def test_an_outsider_cannot_read_our_accounts_health(outsider, scored):
    assert outsider.api.get(f"/api/v1/accounts/{scored['busy'].pk}/health").status_code == 404
    assert outsider.api.get("/api/v1/health").json()["paying"]["good"] == 0
