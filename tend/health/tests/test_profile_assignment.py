"""Which profile scores an account: the first, in order, whose condition it meets; the
default the rest — one query per profile, whatever the number of accounts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.accounts.models import AttributeDefinition
from tend.health.actions.profiles import (
    create_profile,
    delete_profile,
    make_default,
    update_profile,
)
from tend.health.actions.scoring import active_profiles, population, score_workspace
from tend.health.models import AccountHealth, HealthProfile
from tend.health.tests.populations import add_accounts, classic, plan_attribute
from tend.lib.errors import InvalidInput

pytestmark = pytest.mark.django_db

ENTERPRISE = {"all": [{"field": "attributes.plan", "op": "eq", "value": "enterprise"}]}
PAYING = {"all": [{"field": "status", "op": "eq", "value": "paying"}]}


@pytest.fixture
def accounts(workspace):
    plan_attribute(workspace)
    return add_accounts(
        workspace,
        [
            ("big", "paying", 5, {"plan": "enterprise"}),
            ("mid", "paying", 2, {"plan": "growth"}),
            ("trial", "trial", 0, {"plan": "enterprise"}),
            ("free", "free", None, None),
        ],
    )


def scored_by(workspace) -> dict[str, str]:
    return dict(
        AccountHealth.objects.filter(workspace=workspace).values_list(
            "account__external_id", "profile__name"
        )
    )


def test_the_first_profile_whose_condition_an_account_meets_scores_it(workspace, owner, accounts):
    create_profile(
        owner.actor, {"name": "Enterprise", "condition": ENTERPRISE, "definition": classic(8, 2)}
    )
    create_profile(owner.actor, {"name": "Paying", "condition": PAYING, "definition": classic()})
    score_workspace(workspace)
    assert scored_by(workspace) == {
        "big": "Enterprise",  # meets both: the first in order wins
        "mid": "Paying",
        "trial": "Enterprise",
        "free": "Classic usage rank",  # meets neither: the default
    }
    # big has 5 active days: Good under the classic rule, Average under Enterprise's (8)
    assert AccountHealth.objects.get(account=accounts["big"]).rank == "average"


def test_reordering_profiles_changes_which_one_wins(workspace, owner, accounts):
    enterprise = create_profile(
        owner.actor, {"name": "Enterprise", "condition": ENTERPRISE, "definition": classic()}
    )
    paying = create_profile(
        owner.actor, {"name": "Paying", "condition": PAYING, "definition": classic()}
    )
    assert [p.position for p in (enterprise, paying)] == [0, 1]
    update_profile(owner.actor, paying, {"position": 0})
    positions = dict(HealthProfile.objects.filter(is_default=False).values_list("name", "position"))
    assert positions == {"Paying": 0, "Enterprise": 1}
    score_workspace(workspace)
    assert scored_by(workspace)["big"] == "Paying"
    assert scored_by(workspace)["trial"] == "Enterprise"


def test_a_profile_without_a_condition_scores_no_account(workspace, owner, accounts):
    create_profile(owner.actor, {"name": "Draft", "definition": classic(1, 0)})
    score_workspace(workspace)
    assert set(scored_by(workspace).values()) == {"Classic usage rank"}


def test_the_default_takes_no_condition_and_making_a_profile_default_drops_its_own(
    workspace, owner, accounts
):
    default = HealthProfile.objects.get(is_default=True)
    with pytest.raises(InvalidInput) as caught:
        update_profile(owner.actor, default, {"condition": PAYING})
    assert caught.value.field == "condition"
    paying = create_profile(
        owner.actor, {"name": "Paying", "condition": PAYING, "definition": classic()}
    )
    make_default(owner.actor, paying)
    paying.refresh_from_db()
    default.refresh_from_db()
    assert (paying.is_default, paying.condition) == (True, None)
    assert (default.is_default, default.condition, default.position) == (False, None, 0)
    score_workspace(workspace)
    assert set(scored_by(workspace).values()) == {"Paying"}


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        ({"all": [{"field": "plan", "op": "eq", "value": "x"}]}, "condition.all.0.field"),
        ({"all": [{"field": "status", "op": "eq", "value": "rich"}]}, "condition.all.0.value"),
        ({"all": [{"field": "status", "op": "bigger", "value": 1}]}, "condition.all.0.op"),
        ({"every": []}, "condition"),
        ("plan is enterprise", "condition"),
    ],
)
def test_a_condition_that_does_not_parse_is_refused_naming_the_clause(
    workspace, owner, accounts, condition, field
):
    with pytest.raises(InvalidInput) as caught:
        create_profile(
            owner.actor, {"name": "Bad", "condition": condition, "definition": classic()}
        )
    assert caught.value.field == field
    assert not HealthProfile.objects.filter(name="Bad").exists()


def test_a_condition_gone_stale_claims_no_account_and_scoring_goes_on(workspace, owner, accounts):
    create_profile(
        owner.actor, {"name": "Enterprise", "condition": ENTERPRISE, "definition": classic()}
    )
    AttributeDefinition.objects.filter(key="plan").delete()
    run = score_workspace(workspace)
    assert run.distribution["unscored"] == 0
    assert set(scored_by(workspace).values()) == {"Classic usage rank"}


def test_deleting_a_profile_in_use_rescores_its_accounts_with_the_next_profile_at_once(
    workspace, owner, accounts
):
    enterprise = create_profile(
        owner.actor, {"name": "Enterprise", "condition": ENTERPRISE, "definition": classic(8, 2)}
    )
    create_profile(owner.actor, {"name": "Paying", "condition": PAYING, "definition": classic()})
    score_workspace(workspace)
    assert delete_profile(owner.actor, enterprise) == 2
    assert scored_by(workspace) == {
        "big": "Paying",
        "mid": "Paying",
        "trial": "Classic usage rank",
        "free": "Classic usage rank",
    }
    assert AccountHealth.objects.get(account=accounts["big"]).rank == "good"
    assert list(
        HealthProfile.objects.filter(is_default=False).values_list("position", flat=True)
    ) == [0]


def test_assignment_takes_one_query_per_conditioned_profile_whatever_the_accounts(
    workspace, owner, accounts
):
    create_profile(
        owner.actor, {"name": "Enterprise", "condition": ENTERPRISE, "definition": classic()}
    )
    create_profile(owner.actor, {"name": "Paying", "condition": PAYING, "definition": classic()})
    profiles = active_profiles(workspace)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            population(workspace, profiles)
        return len(captured)

    few = queries()
    add_accounts(
        workspace,
        [(f"more-{i}", "paying", i % 5, {"plan": "enterprise"}) for i in range(60)],
    )
    assert queries() == few
    matches: dict = {}
    population(workspace, profiles, matches=matches)
    assert len(matches) == 2
    with CaptureQueriesContext(connection) as captured:
        population(workspace, profiles, matches=matches)
    assert len(captured) == 1  # the accounts; every condition's matches were kept
