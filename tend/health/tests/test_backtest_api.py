"""POST /api/v1/health/profiles/{id}/backtest: the figures of ``churn_world``, bad input
answered 422 naming the field, read scope, and 404 for another workspace's profile."""

import orjson
import pytest

from tend.health.models import HealthProfile
from tend.health.tests import churn_world
from tend.test import make_token, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(owner):
    return churn_world.build(owner)


def url(profile) -> str:
    return f"/api/v1/health/profiles/{profile.pk}/backtest"


def post(client, profile, body: dict):
    return client.post(url(profile), orjson.dumps(body), content_type="application/json")


def classic(workspace) -> HealthProfile:
    return HealthProfile.objects.get(workspace=workspace, is_default=True)


def test_it_answers_the_figures_counts_metrics_and_churned_accounts(viewer, workspace, world):
    response = post(viewer.api, classic(workspace), {"days_before": 30})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["profile"]["name"] == "Classic usage rank" and body["version"] == 1
    assert (body["days_before"], body["lookback_days"]) == (30, 365)
    assert body["counts"] == {
        "churned": 5,
        "compared_churned": 3,
        "compared_others": 4,
        "left_out": {"before_history": 1, "not_paying": 1, "unscored": 0},
        "others_left_out": 1,
        "from_snapshots": 0,
    }
    assert (body["churned_poor"], body["churned_average"], body["churned_good"]) == (
        0.6667,
        0.3333,
        0.0,
    )
    assert body["false_alarm_rate"] == 0.25
    assert body["auc"] == round(churn_world.AUC, 4)
    assert body["best_metric"]["label"] == "Active days, last 14 days"
    assert body["metrics"][0]["read_as_now"] is False
    assert body["roc"][0] == [0.0, 0.0] and body["roc"][-1] == [1.0, 1.0]
    assert body["score_bins"]["others"] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 3]
    assert body["churned_accounts_total"] == 5
    fading = next(a for a in body["churned_accounts"] if a["external_id"] == "gone-fading")
    assert {k: fading[k] for k in ("rank", "score", "from_snapshot", "left_out")} == {
        "rank": "average",
        "score": 60.0,
        "from_snapshot": False,
        "left_out": None,
    }


def test_a_draft_definition_and_an_older_version_can_be_tested(owner, workspace, world):
    draft = {"kind": "rules", "metrics": [{"source": "usage.active_days_14d", "good": 1,
                                           "poor": 1, "missing": "poor"}]}  # fmt: skip
    body = post(owner.api, classic(workspace), {"definition": draft}).json()
    assert body["version"] is None and body["churned_good"] == 0.3333
    body = post(owner.api, classic(workspace), {"version": 1, "limit": 2}).json()
    assert body["version"] == 1
    assert len(body["churned_accounts"]) == 2 and body["churned_accounts_total"] == 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"days_before": 45}, "days_before"),
        ({"days_before": 0}, "days_before"),
        ({"days_before": "soon"}, "days_before"),
        ({"lookback_days": 10}, "lookback_days"),
        ({"lookback_days": 5000}, "lookback_days"),
        ({"version": 0}, "version"),
        ({"version": 9}, "version"),
        ({"limit": 5000}, "limit"),
        ({"definition": {"kind": "weighted", "dimensions": []}}, "definition.dimensions"),
        ({"definition": {"kind": "rules", "metrics": [{"source": "usage.active_days_14d",
                                                       "good": 1, "poor": 5}]}},
         "definition.metrics.0.poor"),
        ({"definition": {"kind": "rules"}, "version": 1}, "definition"),
        ({"days": 30}, "days"),
    ],
)  # fmt: skip
def test_bad_input_gets_422_naming_the_field(owner, workspace, body, field):
    response = post(owner.api, classic(workspace), body)
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]], response.json()


def test_a_workspace_without_churn_gets_empty_figures(owner, workspace):
    body = post(owner.api, classic(workspace), {}).json()
    assert body["counts"]["churned"] == 0 and body["churned_accounts"] == []
    assert (body["auc"], body["false_alarm_rate"], body["best_metric"]) == (None, None, None)


def test_another_workspaces_profile_answers_404(outsider, workspace, world):
    response = post(outsider.api, classic(workspace), {"days_before": 30})
    assert response.status_code == 404


def test_it_needs_the_read_scope(workspace, world):
    ingest_only = token_client(make_token(workspace, ("ingest",)))
    response = post(ingest_only, classic(workspace), {"days_before": 30})
    assert response.status_code == 403
