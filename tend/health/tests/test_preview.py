"""Previewing a draft of a profile: the distributions, the accounts that would change rank
and those that move most, on a population whose figures are known — and the cache that
keeps a burst of previews from reading the database again."""

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.accounts.models import Account
from tend.health.actions import preview as previewing
from tend.health.actions.profiles import create_profile
from tend.health.actions.scoring import score_workspace
from tend.health.models import HealthProfile
from tend.health.tests.populations import add_accounts, classic, plan_attribute
from tend.usage.models import AccountUsage

pytestmark = pytest.mark.django_db
TRIALS = {"all": [{"field": "status", "op": "eq", "value": "trial"}]}


@pytest.fixture(autouse=True)
def _fresh_cache():
    previewing.cache.clear()
    yield
    previewing.cache.clear()


@pytest.fixture
def accounts(workspace):
    """Active days in 14 under the classic rule (Good ≥ 4, Poor < 1, never seen = Poor):
    a1 10 Good · a2 5 Good · a3 2 Average · a4 0 Poor (paying) · a5 6 Good (trial) ·
    a6 never seen, Poor (free)."""
    plan_attribute(workspace)
    return add_accounts(
        workspace,
        [
            ("a1", "paying", 10, {"plan": "enterprise"}),
            ("a2", "paying", 5, None),
            ("a3", "paying", 2, None),
            ("a4", "paying", 0, None),
            ("a5", "trial", 6, {"plan": "enterprise"}),
            ("a6", "free", None, None),
        ],
    )


def post_preview(persona, profile, body):
    return persona.api.post(
        f"/api/v1/health/profiles/{profile.pk}/preview",
        data=orjson.dumps(body),
        content_type="application/json",
    )


def default_profile():
    return HealthProfile.objects.get(is_default=True)


def test_a_stricter_rule_shows_both_distributions_and_who_would_change_rank(owner, accounts):
    response = post_preview(owner, default_profile(), {"definition": classic(good=8, poor=3)})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["accounts"], body["paying_accounts"]) == (6, 4)
    assert body["paying"] == {
        "current": {"good": 2, "average": 1, "poor": 1, "unscored": 0},
        "draft": {"good": 1, "average": 1, "poor": 2, "unscored": 0},
    }
    assert body["all"] == {
        "current": {"good": 3, "average": 1, "poor": 2, "unscored": 0},
        "draft": {"good": 1, "average": 2, "poor": 3, "unscored": 0},
    }
    # a2 5 → Average, a3 2 → Poor, a5 6 → Average
    assert (body["changed_rank"], body["changed_rank_paying"]) == (3, 2)
    assert body["transitions"] == [
        {"from": "good", "to": "average", "accounts": 2},
        {"from": "average", "to": "poor", "accounts": 1},
    ]
    # One rank each: the biggest change of score first (a3 60 → 0), then by id.
    assert [(m["external_id"], m["score_change"]) for m in body["movers"]] == [
        ("a3", -60.0),
        ("a2", -40.0),
        ("a5", -40.0),
    ]
    a3 = body["movers"][0]
    assert a3["before"] == {"rank": "average", "score": 60.0, "profile": "Classic usage rank"}
    assert a3["after"] == {"rank": "poor", "score": 0.0, "profile": "Classic usage rank"}
    assert (a3["name"], a3["status"]) == ("A3", "paying")


def test_movers_crossing_two_ranks_come_first(owner, accounts):
    body = post_preview(owner, default_profile(), {"definition": classic(good=11, poor=6)}).json()
    # a2 5: Good → Poor (two ranks); a3 2: Average → Poor (60); a1 10 and a5 6: Good → Average
    assert [m["external_id"] for m in body["movers"]] == ["a2", "a3", "a1", "a5"]
    assert body["movers"][0]["before"]["rank"] == "good"
    assert body["movers"][0]["after"]["rank"] == "poor"
    limited = post_preview(owner, default_profile(), {"definition": classic(11, 6), "movers": 2})
    assert [m["external_id"] for m in limited.json()["movers"]] == ["a2", "a3"]


def test_a_draft_condition_moves_accounts_between_profiles(workspace, owner, accounts):
    trials = create_profile(owner.actor, {"name": "Trials", "definition": classic(good=8, poor=3)})
    # Without a condition Trials scores nobody; with one, a5 (6 days) falls from Good to Average.
    body = post_preview(owner, trials, {"condition": TRIALS}).json()
    assert body["changed_rank"] == 1
    (a5,) = body["movers"]
    assert a5["external_id"] == "a5"
    assert a5["before"] == {"rank": "good", "score": 100.0, "profile": "Classic usage rank"}
    assert a5["after"] == {"rank": "average", "score": 60.0, "profile": "Trials"}
    both = post_preview(
        owner,
        trials,
        {
            "condition": {"any": [{"field": "attributes.plan", "op": "eq", "value": "enterprise"}]},
            "definition": classic(good=20, poor=1),
        },
    ).json()
    assert sorted(m["external_id"] for m in both["movers"]) == ["a1", "a5"]
    assert both["paying"]["draft"]["good"] == 1


def test_a_profile_that_would_score_no_one_previews_no_change(owner, accounts):
    draft_only = create_profile(owner.actor, {"name": "Draft", "definition": classic()})
    body = post_preview(owner, draft_only, {"definition": classic(good=50)}).json()
    assert (body["changed_rank"], body["movers"]) == (0, [])
    assert body["all"]["current"] == body["all"]["draft"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"definition": classic(good=1, poor=3)}, "definition.metrics.0.poor"),
        ({"definition": {"kind": "weighted", "dimensions": []}}, "definition.dimensions"),
        (
            {"condition": {"all": [{"field": "status", "op": "eq", "value": "rich"}]}},
            "condition.all.0.value",
        ),
        ({"condition": TRIALS}, "condition"),  # the default profile takes none
        ({}, "definition"),
        ({"definition": None}, "definition"),
        ({"definition": classic(), "movers": 500}, "movers"),
        ({"definition": classic(), "colour": "red"}, "colour"),
    ],
)
def test_a_draft_that_cannot_be_scored_gets_a_422_naming_the_field(owner, accounts, body, field):
    response = post_preview(owner, default_profile(), body)
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field


def test_a_viewer_may_preview_since_nothing_is_saved(viewer, accounts):
    profile = default_profile()
    response = post_preview(viewer, profile, {"definition": classic(good=8)})
    assert response.status_code == 200
    assert profile.versions.count() == 1


def test_repeated_previews_read_the_inputs_once_until_the_workspace_is_rescored(
    workspace, owner, accounts
):
    profile = default_profile()
    draft = {"definition": classic(good=8, poor=3)}
    actor = owner.actor
    previewing.preview(actor, profile, draft)

    def queries(body) -> int:
        with CaptureQueriesContext(connection) as captured:
            previewing.preview(actor, profile, body)
        return len(captured)

    warm = queries({"definition": classic(good=9, poor=2)})
    assert warm <= 8
    # Usage changes; the cached inputs still give the old answer ...
    AccountUsage.objects.filter(account__external_id="a4").update(active_days_14d=12)
    assert previewing.preview(actor, profile, draft).all["current"]["good"] == 3
    # ... until the workspace is scored again, which drops them.
    score_workspace(workspace)
    assert queries(draft) > warm
    assert previewing.preview(actor, profile, draft).all["current"]["good"] == 4


def test_the_cache_expires_after_its_time(workspace, owner, accounts, monkeypatch):
    profile = default_profile()
    previewing.preview(owner.actor, profile, {"definition": classic(good=8)})
    Account.objects.filter(external_id="a6").update(status="paying")
    assert previewing.preview(owner.actor, profile, {"definition": classic()}).paying_accounts == 4
    monkeypatch.setattr(previewing.cache, "seconds", 0)
    assert previewing.preview(owner.actor, profile, {"definition": classic()}).paying_accounts == 5
