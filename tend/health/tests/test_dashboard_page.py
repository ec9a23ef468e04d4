"""The health dashboard: paying accounts by rank with the population score, changes against 7
and 30 days ago, a breakdown by role or attribute, the other statuses apart, links that open
the matching accounts, the empty state, who may see it, and its number of queries."""

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest

from tend.accounts.actions.accounts import create_account
from tend.health import sources
from tend.health.tests.health_world import build_world, set_health

pytestmark = pytest.mark.django_db
URL = "/health/"


@pytest.fixture
def world(owner):
    return build_world(owner)


def chart_data(html: str, element_id: str) -> dict:
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert found, element_id
    return json.loads(found.group(1))


def query(url: str) -> dict[str, str]:
    parsed = urlparse(url)
    assert parsed.path == "/accounts/"
    return {k: v[0] for k, v in parse_qs(parsed.query).items()}


def listed(persona, url: str) -> set[str]:
    """The external ids the accounts list shows at ``url``."""
    html = persona.browser.get(url).content.decode()
    return set(re.findall(r'<span class="mono" title="External id">([^<]+)</span>', html))


def test_owner_and_viewer_see_the_dashboard_in_the_navigation(owner, viewer, world):
    for persona in (owner, viewer):
        response = persona.browser.get(URL)
        assert response.status_code == 200
        html = response.content.decode()
        assert '<a href="/health/" class="nav-item active">Health</a>' in html
    nav = re.findall(r'class="nav-item[^"]*">([^<]+)</a>', html)
    assert nav.index("Health") == nav.index("Accounts") + 1


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_donut_counts_paying_accounts_by_rank_around_the_population_score(owner, world):
    html = owner.browser.get(URL).content.decode()
    donut = chart_data(html, "health-donut-data")
    assert [(s["rank"], s["value"]) for s in donut["slices"]] == [
        ("good", 1),
        ("average", 1),
        ("poor", 2),
    ]
    # (100 + 50 + 0 + 0) / 4 ranked paying accounts; hooli has no score and does not count.
    assert donut["score"] == 37.5
    assert 'Paying accounts <span class="count">5</span>' in html
    assert "1 paying account without a score" in html


def test_each_slice_opens_the_paying_accounts_of_its_rank(owner, world):
    donut = chart_data(owner.browser.get(URL).content.decode(), "health-donut-data")
    urls = {s["rank"]: s["url"] for s in donut["slices"]}
    assert query(urls["poor"]) == {"status": "paying", "health": "poor"}
    assert listed(owner, urls["poor"]) == {"initech", "umbrella"}
    assert listed(owner, urls["good"]) == {"acme"}
    assert listed(owner, urls["average"]) == {"globex"}


def test_accounts_without_a_score_have_their_own_link(owner, world):
    html = owner.browser.get(URL).content.decode()
    link = re.search(r'<a href="([^"]+)">1 paying account without a score', html).group(1)
    assert listed(owner, link.replace("&amp;", "&")) == {"hooli"}


def test_statuses_other_than_paying_are_shown_apart_with_links(owner, world):
    html = owner.browser.get(URL).content.decode()
    others = html[html.index('id="health-others"') :]
    assert ">Trial</span>" in others and ">Churned</span>" in others
    assert ">Free</span>" not in others  # no free accounts at all
    trial_good = re.search(r'<a href="(/accounts/\?status=trial&amp;health=good)">1</a>', others)
    assert trial_good
    assert listed(owner, trial_good.group(1).replace("&amp;", "&")) == {"trialco"}
    churned_poor = "/accounts/?status=churned&health=poor"
    assert churned_poor.replace("&", "&amp;") in others
    assert listed(owner, churned_poor) == {"goneco"}


def test_each_rank_says_how_it_moved_against_7_and_30_days_ago(owner, world, workspace):
    today = sources.local_today(workspace)
    # Eight days ago: globex Good, umbrella and initech Average; acme had no score yet.
    set_health(world["globex"], "good", day=today - 8)
    set_health(world["umbrella"], "average", day=today - 8)
    set_health(world["initech"], "average", day=today - 8)
    set_health(world["acme"], None, day=today - 8)
    html = owner.browser.get(URL).content.decode()

    def row(rank):
        start = html.index(f'data-rank="{rank}"')
        return html[start : html.index("</li>", start)]

    # 7 days ago: Good 1, Average 2, Poor 0. Now: Good 1, Average 1, Poor 2.
    assert '<span class="delta delta-flat" title="1 7 days ago, 1 now">= 0' in row("good")
    # Average moves either way: its changes stay neutral.
    assert '<span class="delta delta-flat" title="2 7 days ago, 1 now">▼ 1' in row("average")
    assert '<span class="delta delta-bad" title="0 7 days ago, 2 now">▲ 2' in row("poor")
    # 30 days ago no account had a score: nothing to compare with.
    for rank in ("good", "average", "poor"):
        assert row(rank).count("delta-none") == 1
        assert "No scores yet 30 days ago" in row(rank)


def test_the_30_day_comparison_counts_the_ranks_a_month_ago(owner, world, workspace):
    today = sources.local_today(workspace)
    # A month ago (and so 7 days ago too): acme and globex Poor, initech and umbrella Good.
    for key, rank in (("acme", "poor"), ("globex", "poor"), ("initech", "good"),
                      ("umbrella", "good")):  # fmt: skip
        set_health(world[key], rank, day=today - 31)
    html = owner.browser.get(URL).content.decode()

    def compared(rank: str, days: int) -> str:
        start = html.index(f'data-rank="{rank}"')
        row = html[start : html.index("</li>", start)]
        found = re.search(rf'<span class="delta [^"]*" title="[^"]*">[^<]*<span>vs {days} d', row)
        assert found, (rank, days)
        return found.group(0)

    # Now: Good 1 (acme), Average 1 (globex), Poor 2 (initech, umbrella).
    assert 'class="delta delta-bad" title="2 30 days ago, 1 now">▼ 1' in compared("good", 30)
    assert 'class="delta delta-flat" title="0 30 days ago, 1 now">▲ 1' in compared("average", 30)
    assert 'class="delta delta-flat" title="2 30 days ago, 2 now">= 0' in compared("poor", 30)
    assert 'title="2 7 days ago, 1 now">▼ 1' in compared("good", 7)


def test_more_good_accounts_read_as_good_news(owner, world, workspace):
    today = sources.local_today(workspace)
    set_health(world["acme"], "poor", day=today - 9)
    html = owner.browser.get(URL).content.decode()
    start = html.index('data-rank="good"')
    assert '<span class="delta delta-good" title="0 7 days ago, 1 now">▲ 1' in html[start:]


def test_the_trend_chart_draws_the_last_90_days(owner, world, workspace):
    today = sources.local_today(workspace)
    set_health(world["acme"], "poor", day=today - 5)
    html = owner.browser.get(URL).content.decode()
    trend = chart_data(html, "health-trend-data")
    assert len(trend["dates"]) == 90 and len(trend["counts"]["good"]) == 90
    assert trend["counts"]["poor"][-6:] == [1, 1, 1, 1, 1, 2]
    assert trend["counts"]["good"][-1] == 1
    assert trend["population"][-1] == 37.5


def test_with_one_day_of_history_the_trend_says_it_starts_today(owner, world):
    html = owner.browser.get(URL).content.decode()
    assert "The trend starts today" in html
    assert 'id="health-trend-data"' not in html


def test_the_breakdown_defaults_to_the_success_manager_with_links_per_segment(owner, world):
    html = owner.browser.get(URL).content.decode()
    assert "Paying accounts by success manager" in html
    data = chart_data(html, "health-breakdown-data")
    assert data["groups"] == ["Alice Anders", "Bob Brown", "Unassigned"]
    series = {s["rank"]: s for s in data["series"]}
    assert series["good"]["values"] == [1, 0, 0]
    assert series["poor"]["values"] == [1, 0, 1]
    assert series["unscored"]["values"] == [0, 1, 0]
    alice, role = world["members"]["alice"], world["role"]
    poor_alice = series["poor"]["urls"][0]
    assert query(poor_alice) == {
        "status": "paying",
        "health": "poor",
        "owner": str(alice.pk),
        "role": str(role.pk),
    }
    assert listed(owner, poor_alice) == {"initech"}
    assert listed(owner, series["poor"]["urls"][2]) == {"umbrella"}
    assert listed(owner, series["unscored"]["urls"][1]) == {"hooli"}


def test_the_breakdown_by_an_enum_attribute_follows_its_options(owner, world):
    html = owner.browser.get(URL, {"by": "attr:plan"}).content.decode()
    assert "Paying accounts by plan" in html
    data = chart_data(html, "health-breakdown-data")
    assert data["groups"] == ["Gold", "Silver", "No value"]
    series = {s["rank"]: s for s in data["series"]}
    assert series["good"]["values"] == [1, 0, 0]
    assert series["average"]["values"] == [1, 0, 0]
    assert series["poor"]["values"] == [0, 1, 1]
    assert query(series["poor"]["urls"][1]) == {
        "status": "paying",
        "health": "poor",
        "attr": "plan:Silver",
    }
    assert listed(owner, series["poor"]["urls"][1]) == {"initech"}
    assert listed(owner, series["poor"]["urls"][2]) == {"umbrella"}
    assert listed(owner, series["average"]["urls"][0]) == {"globex"}


def test_the_breakdown_by_text_and_yes_no_attributes_drills_down_too(owner, world):
    region = chart_data(
        owner.browser.get(URL, {"by": "attr:region"}).content.decode(), "health-breakdown-data"
    )
    assert region["groups"] == ["EMEA", "Americas", "No value"]
    good = next(s for s in region["series"] if s["rank"] == "good")
    assert listed(owner, good["urls"][0]) == {"acme"}
    strategic = chart_data(
        owner.browser.get(URL, {"by": "attr:strategic"}).content.decode(),
        "health-breakdown-data",
    )
    assert strategic["groups"] == ["Yes", "No", "No value"]
    poor = next(s for s in strategic["series"] if s["rank"] == "poor")
    assert query(poor["urls"][1])["attr"] == "strategic:false"
    assert listed(owner, poor["urls"][1]) == {"initech"}
    assert listed(owner, poor["urls"][2]) == {"umbrella"}


def test_the_breakdown_selector_offers_roles_and_attributes(owner, world):
    html = owner.browser.get(URL).content.decode()
    select = html[
        html.index('<select name="by"') : html.index("</select>", html.index('name="by"'))
    ]
    assert '<optgroup label="Assignment">' in select and '<optgroup label="Attribute">' in select
    values = re.findall(r'<option value="([^"]+)"', select)
    assert values == [f"role:{world['role'].pk}", "attr:plan", "attr:region", "attr:strategic"]


def test_an_unknown_breakdown_falls_back_to_the_success_manager(owner, world):
    html = owner.browser.get(URL, {"by": "attr:nope"}).content.decode()
    assert "Paying accounts by success manager" in html


def test_htmx_swaps_only_the_breakdown_and_keeps_it_in_the_address(owner, world):
    response = owner.browser.get(
        URL,
        {"by": "attr:plan"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="health-breakdown",
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="health-breakdown">')
    assert "health-donut-data" not in html
    assert response["HX-Push-Url"] == "/health/?by=attr:plan"


def test_a_workspace_without_scores_says_when_they_appear(owner):
    create_account(owner.actor, {"external_id": "new", "name": "New Co", "status": "paying"})
    html = owner.browser.get(URL).content.decode()
    assert "No scored accounts yet" in html
    assert "Health scores appear within a minute of usage arriving" in html
    assert 'href="/data/ingestion/"' in html
    assert "health-donut-data" not in html


def test_scored_accounts_but_none_paying_say_so(owner, world):
    from tend.accounts.models import Account

    Account.objects.filter(workspace=owner.workspace, status="paying").update(status="free")
    html = owner.browser.get(URL).content.decode()
    assert "No paying accounts" in html
    assert ">Free</span>" in html


def test_an_outsider_sees_only_their_own_workspace(outsider, world):
    html = outsider.browser.get(URL).content.decode()
    assert "No scored accounts yet" in html
    for name in ("Alice Anders", "Initech", "Umbrella", "Trialco"):
        assert name not in html


def test_the_dashboard_takes_as_many_queries_for_many_accounts_as_for_few(
    owner, world, workspace, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    owner.browser.get(URL)
    with CaptureQueriesContext(connection) as few:
        owner.browser.get(URL, {"by": "attr:plan"})
    today = sources.local_today(workspace)
    for i in range(30):
        account = create_account(
            owner.actor,
            {
                "external_id": f"more-{i}",
                "name": f"More {i}",
                "status": "paying",
                "attributes": {"plan": ["Gold", "Silver"][i % 2]},
                "assignments": {"success_manager": world["members"]["bob"].user.email},
            },
        )
        set_health(account, ["good", "average", "poor"][i % 3], day=today - 1 - i % 20)
        set_health(account, ["poor", "good", "average"][i % 3])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = owner.browser.get(URL, {"by": "attr:plan"})
    donut = chart_data(response.content.decode(), "health-donut-data")
    assert sum(s["value"] for s in donut["slices"]) == 34
