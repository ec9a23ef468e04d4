"""The back-test report page: the figures of ``churn_world``, charts' data, the churned
accounts table, an honest empty state, bad choices refused, outsiders 404, bounded queries."""

import re

import orjson
import pytest

from tend.health.models import HealthProfile
from tend.health.tests import churn_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(owner):
    return churn_world.build(owner)


def classic(workspace) -> HealthProfile:
    return HealthProfile.objects.get(workspace=workspace, is_default=True)


def page(persona, profile, **params):
    return persona.browser.get(f"/health/profiles/{profile.pk}/backtest/", params)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_report_shows_the_figures_worked_out_by_hand(viewer, workspace, world):
    response = page(viewer, classic(workspace))
    assert response.status_code == 200
    html = response.content.decode()
    words = text(html)
    assert "5 accounts churned in the last 365 days." in words
    assert "3 of them were scored as they were 30 days before they churned" in words
    assert "against 4 paying accounts that stayed" in words
    assert re.search(r"Churned ranked Poor\s*66\.7\s*%", words)
    assert re.search(r"Ranked Average\s*33\.3\s*%", words)
    assert "Poor or Average: 100.0%" in words
    assert re.search(r"False alarms\s*25\.0\s*%", words)
    assert re.search(r"ROC AUC of the score\s*0\.83\s*Good separation", words)
    assert "Active days, last 14 days separated churned accounts best: AUC 0.83" in words
    assert "a median of 0 for churned accounts against 5 for those that stayed" in words
    data = orjson.loads(re.search(r'id="backtest-data" type="application/json">(.*?)</script>',
                                  html, re.S).group(1))  # fmt: skip
    assert data["churned_counts"] == [2, 0, 0, 0, 0, 0, 1, 0, 0, 0]
    assert data["others"] == [25.0, 0, 0, 0, 0, 0, 0, 0, 0, 75.0]
    assert data["roc"][0] == [0, 0] and data["roc"][-1] == [100, 100]
    assert "Not compared: before the usage history" in words
    assert "Not compared: not paying then" in words
    assert "1 account that stayed was not paying" in words


def test_choosing_other_days_before_churn_reruns_it(owner, workspace, world):
    words = text(page(owner, classic(workspace), days_before=90).content.decode())
    assert "None could be scored 90 days before it churned" in words
    assert (
        'option value="90" selected'
        in page(owner, classic(workspace), days_before=90).content.decode()
    )


def test_a_workspace_without_churn_says_what_the_back_test_needs(owner, workspace):
    html = page(owner, classic(workspace)).content.decode()
    assert 'id="backtest-empty"' in html
    assert "No churn to test against yet" in html and "Churned" in html
    assert 'id="backtest-report"' not in html


@pytest.mark.parametrize(
    "params", [{"days_before": 45}, {"version": 9}, {"lookback_days": 3}, {"days_before": "x"}]
)
def test_a_choice_that_is_not_offered_is_refused_beside_its_field(owner, workspace, params):
    response = page(owner, classic(workspace), **params)
    assert response.status_code == 422
    assert 'class="field-error' in response.content.decode()


def test_another_workspaces_profile_answers_404(outsider, workspace, world):
    assert page(outsider, classic(workspace)).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, workspace):
    response = client.get(f"/health/profiles/{classic(workspace).pk}/backtest/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_churned_accounts_are_paged(owner, workspace, world, monkeypatch):
    from tend.health.views import backtest as view

    monkeypatch.setattr(view, "CHURNED_PAGE_SIZE", 2)
    first = page(owner, classic(workspace), days_before=30).content.decode()
    assert len(re.findall(r"<tr data-account=", first)) == 2
    assert "1–2 of 5" in first and "days_before=30&amp;page=2" in first
    last = page(owner, classic(workspace), days_before=30, page=3).content.decode()
    assert len(re.findall(r"<tr data-account=", last)) == 1


def test_the_report_costs_a_bounded_number_of_queries(
    owner, workspace, world, django_assert_max_num_queries
):
    profile = classic(workspace)
    assert page(owner, profile).status_code == 200  # logged in before counting
    with django_assert_max_num_queries(20):
        assert page(owner, profile).status_code == 200
