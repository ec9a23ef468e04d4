"""The account profile's health panel: rank, score and trend, the explanation of every metric,
what would lift the account, the profile and version used, 90 days of history with changes of
rank and of version marked, the empty state, and a fixed number of queries."""

import datetime
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tend.accounts.actions.accounts import create_account
from tend.accounts.models import Account, AttributeDefinition, AttributeType
from tend.health import sources
from tend.health.actions.profiles import ensure_default_profile, update_profile
from tend.health.actions.scoring import score_workspace
from tend.health.models import HealthChange, HealthSnapshot
from tend.health.tests.health_world import use

pytestmark = pytest.mark.django_db

WEIGHTED = {
    "kind": "weighted",
    "thresholds": {"good": 75, "poor": 40},
    "dimensions": [
        {
            "key": "usage",
            "label": "Usage",
            "weight": 60,
            "metrics": [
                {
                    "source": "usage.active_days_14d",
                    "label": "Active days",
                    "weight": 100,
                    "good": 4,
                    "poor": 1,
                }
            ],
        },
        {
            "key": "contract",
            "label": "Contract",
            "weight": 40,
            "metrics": [
                {
                    "source": "attributes.seats",
                    "label": "Seats bought",
                    "weight": 50,
                    "grading": "linear",
                    "low": 0,
                    "high": 20,
                },
                {
                    "source": "attributes.tier",
                    "label": "Tier",
                    "weight": 50,
                    "grading": "categories",
                    "categories": {"gold": "good", "bronze": "poor"},
                },
            ],
        },
    ],
}


def url(account) -> str:
    return f"/accounts/{account.pk}/"


def panel(persona, account) -> str:
    html = persona.browser.get(url(account)).content.decode()
    start = html.index('<section class="card health-panel" id="health">')
    return html[start : html.index("</section>", start)]


def chart(html: str, element_id: str) -> dict:
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert found, element_id
    return json.loads(found.group(1))


@pytest.fixture
def average(owner, workspace):
    """Acme used the product on 2 of the last 14 days: Average by the classic rule."""
    create_account(owner.actor, {"external_id": "acme", "name": "Acme Corp", "status": "paying"})
    use(workspace, "acme", 1, 9)
    score_workspace(workspace)
    return Account.objects.get(external_id="acme")


def test_the_panel_shows_rank_score_and_the_profile_that_scored_it(owner, average):
    html = panel(owner, average)
    assert '<span class="badge rank rank-average rank-big">Average</span>' in html
    assert re.search(r"60<span class=\"kpi-unit\">/100</span>", html)
    profile = ensure_default_profile(average.workspace)
    assert (
        f'<a href="/health/profiles/{profile.pk}/">Classic usage rank</a> · version 1 · this score since'
        in html
    )
    assert re.search(r"since \w{3} \d+, \d{4}", html)


def test_the_explanation_gives_each_rules_value_grade_and_bounds(owner, average):
    html = panel(owner, average)
    assert "Why Average" in html
    row = html[html.index('<tr class="metric-row">') :]
    row = row[: row.index("</tr>")]
    assert '<span title="usage.active_days_14d">Active days, last 14 days</span>' in row
    assert "Good at 4 or more · Poor below 1 · no value counts as Poor" in row
    assert '<td class="num">2</td>' in row
    assert '<span class="badge rank rank-average">Average</span>' in row
    # A rule-based profile has no points or weights to show.
    assert "Points" not in html


def test_what_would_lift_it_names_the_metric_and_the_value_needed(owner, average):
    html = panel(owner, average)
    lift = html[html.index("What would lift it") :]
    assert "<strong>Active days, last 14 days</strong>: 2 → 4" in lift
    assert '<span class="badge rank rank-good">Good</span>' in lift


def test_a_good_account_has_nothing_to_lift(owner, workspace):
    create_account(owner.actor, {"external_id": "busy", "name": "Busy", "status": "paying"})
    use(workspace, "busy", 0, 1, 2, 3)
    score_workspace(workspace)
    html = panel(owner, Account.objects.get(external_id="busy"))
    assert "rank-good rank-big" in html
    assert "What would lift it" not in html


def test_a_weighted_profile_shows_dimensions_points_weights_and_contributions(owner, workspace):
    AttributeDefinition.objects.create(
        workspace=workspace, key="seats", label="Seats", type=AttributeType.NUMBER
    )
    AttributeDefinition.objects.create(
        workspace=workspace,
        key="tier",
        label="Tier",
        type=AttributeType.ENUM,
        options=["gold", "silver", "bronze"],
    )
    create_account(
        owner.actor,
        {
            "external_id": "acme",
            "name": "Acme",
            "status": "paying",
            "attributes": {"seats": 5, "tier": "silver"},
        },
    )
    use(workspace, "acme", 1, 9)
    update_profile(owner.actor, ensure_default_profile(workspace), {"definition": WEIGHTED})
    score_workspace(workspace)
    account = Account.objects.get(external_id="acme")
    html = panel(owner, account)
    # Usage: active days 2 → Average → 60 points, the whole dimension, 60% of the total: 36.
    # Contract: seats 5 of 20 → 25 points, tier silver (not listed) → ignored: 25, 40%: 10.
    # Total 46 → Average (Poor below 40, Good from 75).
    assert "Classic usage rank</a> · version 2" in html
    assert '46<span class="kpi-unit">/100</span>' in html
    rows = re.findall(r'<tr class="(dimension-row|metric-row)">(.*?)</tr>', html, re.S)
    text = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cells)).strip() for _kind, cells in rows]
    assert text == [
        "Usage 60 60% 36",
        "Active days Good at 4 or more · Poor below 1 2 Average 60 100% 36",
        "Contract 25 40% 10",
        "Seats bought 0 points at 0, 100 at 20 5 Poor 25 100% 10",
        "Tier Good: gold · Poor: bronze Silver ignored — 0% —",
    ]
    assert "Good from 75 · Poor below 40" in html
    # Active days reaching Good gives 60 + 10 = 70: still below 75, so no single move lifts it.
    assert "No single metric is enough to lift it a rank" in html


def test_the_history_chart_marks_changes_of_rank_and_of_profile_version(owner, workspace, average):
    today = sources.local_today(workspace)
    profile = ensure_default_profile(workspace)
    old = profile.current_version
    update_profile(owner.actor, profile, {"definition": profile.current_version.definition})
    profile.refresh_from_db()
    HealthSnapshot.objects.filter(account=average).update(version=profile.current_version)
    HealthSnapshot.objects.create(
        workspace=workspace, account=average, day=today - 20, score=0.0, rank="poor", version=old
    )
    HealthChange.objects.create(
        workspace=workspace,
        account=average,
        from_rank="poor",
        to_rank="average",
        score=60.0,
        version=profile.current_version,
        changed_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    html = panel(owner, average)
    history = chart(html, "health-history-data")
    assert len(history["dates"]) == 90
    assert history["scores"][-22] is None and history["scores"][-21] == 0.0
    assert history["scores"][-2] == 0.0 and history["scores"][-1] == 60.0
    assert history["ranks"][-1] == "average"
    assert {"index": 89, "rank": "average", "text": "Poor → Average"} in history["changes"]
    assert history["versions"] == [{"index": 89, "text": "v2"}]
    sparkline = chart(html, "health-sparkline-data")
    assert sparkline["scores"][-1] == 60.0
    assert "▲ 60 <span>vs 7 d</span>" in html
    changes = html[html.index('<ul class="health-changes">') :]
    assert '<span class="badge rank rank-poor">Poor</span> → ' in changes


def test_with_one_day_of_history_there_is_no_chart_yet(owner, average):
    html = panel(owner, average)
    assert "health-history-data" not in html
    assert "history builds up from the first score" in html
    assert "First scored" in html


def test_inputs_changed_since_the_score_are_announced(owner, workspace, average):
    use(workspace, "acme", 0, 2, 3)
    html = panel(owner, average)
    assert "inputs changed after it was scored" in html
    assert "The breakdown below already shows the new figures (Good, 100)" in html


def test_an_account_not_scored_yet_says_when_its_score_appears(owner, viewer):
    account = create_account(
        owner.actor, {"external_id": "fresh-co", "name": "Fresh", "status": "paying"}
    )
    for persona in (owner, viewer):
        html = panel(persona, account)
        assert "Fresh has no health score yet" in html
        assert "within a minute of usage arriving for external id <code>fresh-co</code>" in html
        assert 'href="/data/ingestion/"' in html


def test_an_account_that_does_not_pay_is_scored_but_not_counted(owner, workspace):
    create_account(owner.actor, {"external_id": "t", "name": "Trial Co", "status": "trial"})
    use(workspace, "t", 1)
    score_workspace(workspace)
    html = panel(owner, Account.objects.get(external_id="t"))
    assert '<span class="badge badge-trial">Trial</span>' in html and "not counted" in html


def test_the_viewer_sees_the_panel_and_an_outsider_gets_404(viewer, outsider, average):
    assert "Why Average" in panel(viewer, average)
    assert outsider.browser.get(url(average)).status_code == 404


def test_the_panel_comes_before_the_usage_panel(owner, average):
    html = owner.browser.get(url(average)).content.decode()
    assert html.index('id="health"') < html.index('id="usage"')


def test_the_profile_with_its_panel_takes_as_many_queries_for_a_long_history(
    owner, workspace, average, django_assert_max_num_queries
):
    owner.browser.get(url(average))
    with CaptureQueriesContext(connection) as short:
        owner.browser.get(url(average))
    today = sources.local_today(workspace)
    version = ensure_default_profile(workspace).current_version
    for days_ago in range(1, 89):
        rank = ("good", "average", "poor")[days_ago % 3]
        HealthSnapshot.objects.create(
            workspace=workspace,
            account=average,
            day=today - days_ago,
            rank=rank,
            score={"good": 100.0, "average": 60.0, "poor": 0.0}[rank],
            version=version,
        )
        HealthChange.objects.create(
            workspace=workspace,
            account=average,
            from_rank="poor",
            to_rank=rank,
            version=version,
            changed_at=timezone.now() - datetime.timedelta(days=days_ago),
        )
    with django_assert_max_num_queries(len(short.captured_queries)):
        response = owner.browser.get(url(average))
    assert len(chart(response.content.decode(), "health-history-data")["changes"]) >= 80
