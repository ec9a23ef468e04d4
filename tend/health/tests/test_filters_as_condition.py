"""Every list is a filter in the one condition language: the accounts list's filter bar —
the health dashboard's drill-downs included — turns into the condition "Save as segment"
carries, and that condition lists exactly the accounts the filters listed."""

import html as html_lib
import json
import re
from urllib.parse import parse_qs, urlparse

import pytest

from tend.accounts.models import AccountTag, Stage, Tag
from tend.health.tests.health_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(owner, workspace):
    accounts = build_world(owner)
    onboarding = Stage.objects.create(workspace=workspace, name="Onboarding", position=0)
    Stage.objects.create(workspace=workspace, name="Renewal", position=1)
    for key in ("acme", "hooli", "trialco"):
        accounts[key].stage = onboarding
        accounts[key].save(update_fields=["stage"])
    vip = Tag.objects.create(workspace=workspace, name="vip")
    for key in ("globex", "initech"):
        AccountTag.objects.create(account=accounts[key], tag=vip)
    return {**accounts, "onboarding": onboarding, "vip": vip}


def listed(html: str) -> set[str]:
    return set(re.findall(r'<span class="mono" title="External id">([^<]+)</span>', html))


def saved_condition(html: str) -> dict:
    """The condition of the list's "Save as segment" link."""
    found = re.search(r'href="([^"]*/segments/new/\?where=[^"]*)"[^>]*>Save as segment<', html)
    assert found, "the list offers no Save as segment"
    query = parse_qs(urlparse(html_lib.unescape(found.group(1))).query)
    return json.loads(query["where"][0])


def as_condition(browser, address: str) -> tuple[set[str], dict]:
    """The accounts ``address`` lists, and the condition it would be saved as."""
    page = browser.get(address).content.decode()
    return listed(page), saved_condition(page)


def listed_by_condition(browser, condition: dict) -> set[str]:
    response = browser.get("/accounts/", {"where": json.dumps(condition)})
    assert response.status_code == 200
    return listed(response.content.decode())


def test_each_drill_down_of_the_health_dashboard_saves_as_the_same_accounts(owner, world):
    dashboard = owner.browser.get("/health/").content.decode()
    addresses = {
        html_lib.unescape(a) for a in re.findall(r'href="(/accounts/\?[^"]+)"', dashboard)
    }
    assert len(addresses) >= 6  # ranks, statuses, the unscored count, the breakdown's cells
    for address in sorted(addresses):
        accounts, condition = as_condition(owner.browser, address)
        assert listed_by_condition(owner.browser, condition) == accounts, address


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"status": "paying", "health": "poor"}, {"initech", "umbrella"}),
        ({"status": "paying", "health": "none"}, {"hooli"}),
        ({"attr": "plan:Gold"}, {"acme", "globex"}),
        ({"attr": "plan:"}, {"umbrella", "trialco", "goneco"}),
        ({"attr": "strategic:false"}, {"initech"}),
        ({"owner": "none"}, {"umbrella", "goneco"}),
        ({"q": "co"}, {"trialco", "goneco"}),
        ({"tag": "vip", "health": "average"}, {"globex"}),
        ({"stage": "onboarding"}, {"acme", "hooli", "trialco"}),
        ({"stage": "none", "status": "paying"}, {"globex", "initech", "umbrella"}),
    ],
)
def test_a_filter_bar_saves_as_a_condition_listing_the_same_accounts(
    owner, world, params, expected
):
    ids = {"vip": world["vip"].pk, "onboarding": world["onboarding"].pk}
    query = {k: ids.get(v, v) for k, v in params.items()}
    page = owner.browser.get("/accounts/", query).content.decode()
    assert listed(page) == expected
    assert listed_by_condition(owner.browser, saved_condition(page)) == expected


def test_an_owner_in_a_role_and_a_list_condition_join_the_saved_condition(owner, world):
    alice, role = world["members"]["alice"], world["role"]
    where = {"field": "attributes.region", "op": "eq", "value": "EMEA"}
    page = owner.browser.get(
        "/accounts/", {"owner": alice.pk, "role": role.pk, "where": json.dumps(where)}
    ).content.decode()
    assert listed(page) == {"acme"}
    condition = saved_condition(page)
    assert condition == {
        "all": [
            {"any": [{"field": "owner.success_manager", "op": "eq", "value": "alice@acme.test"}]},
            where,
        ]
    }
    assert listed_by_condition(owner.browser, condition) == {"acme"}


def test_an_unfiltered_list_offers_no_save_as_segment(owner, world):
    page = owner.browser.get("/accounts/").content.decode()
    assert ">Save as segment<" not in page
