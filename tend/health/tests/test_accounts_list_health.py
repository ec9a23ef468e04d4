"""The accounts list's Health and Score columns and its Health filter: badges with tooltips,
both sorts with unscored accounts last, the filter kept by every link of the list, and a
fixed number of queries."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.accounts.actions.accounts import create_account
from tend.health.models import AccountHealth
from tend.health.tests.health_world import build_world, set_health

pytestmark = pytest.mark.django_db
URL = "/accounts/"


@pytest.fixture
def world(owner):
    return build_world(owner)


def names(html: str) -> list[str]:
    return re.findall(r'<td class="account-name"><a [^>]*>(.*?)</a>', html)


def row_of(html: str, name: str) -> str:
    start = html.index(f">{name}</a>")
    return html[start : html.index("</tr>", start)]


def test_the_list_shows_the_rank_as_a_badge_and_the_score(owner, world):
    AccountHealth.objects.filter(account=world["globex"]).update(score=63.4)
    html = owner.browser.get(URL).content.decode()
    headers = re.findall(r"<th[^>]*>(?:<a [^>]*>)?([A-Z][\w ]+?) ?[▲▼]?(?:</a>)?</th>", html)
    assert headers.index("Health") == headers.index("Success Manager") + 1
    assert headers.index("Score") == headers.index("Health") + 1
    globex = row_of(html, "Globex")
    assert '<span class="badge rank rank-average">Average</span>' in globex
    assert re.search(r'title="Average since \w{3} \d+, \d{4} · Classic usage rank"', globex)
    assert '<td class="num" title="Health score 63.4 of 100">63.4</td>' in globex
    assert '<td class="num" title="Health score 100 of 100">100</td>' in row_of(html, "Acme")
    hooli = row_of(html, "Hooli")
    assert hooli.count('title="Not scored yet"') == 2


@pytest.mark.parametrize(
    "sort, expected",
    [
        # Worst first is the first click: the accounts that need attention. Ties keep the
        # order of creation, reversed with the sort.
        ("health", ["Initech", "Umbrella", "Goneco", "Globex", "Acme", "Trialco", "Hooli"]),
        ("-health", ["Trialco", "Acme", "Globex", "Goneco", "Umbrella", "Initech", "Hooli"]),
        ("health_score", ["Initech", "Umbrella", "Goneco", "Globex", "Acme", "Trialco", "Hooli"]),
        ("-health_score", ["Trialco", "Acme", "Globex", "Goneco", "Umbrella", "Initech", "Hooli"]),
    ],
)
def test_health_sorts_both_ways_with_unscored_accounts_last(owner, world, sort, expected):
    html = owner.browser.get(URL, {"sort": sort}).content.decode()
    assert names(html) == expected


def test_the_headers_sort_worst_first_and_the_menu_names_both_orders(owner, world):
    html = owner.browser.get(URL).content.decode()
    assert 'href="/accounts/?sort=health"' in html
    assert 'href="/accounts/?sort=health_score"' in html
    assert '<option value="health">Poorest health first</option>' in html
    assert '<option value="-health_score">Highest health score</option>' in html


@pytest.mark.parametrize(
    "health, expected",
    [
        ("good", {"Acme", "Trialco"}),
        ("average", {"Globex"}),
        ("poor", {"Initech", "Umbrella", "Goneco"}),
        ("none", {"Hooli"}),
    ],
)
def test_the_health_filter_keeps_the_accounts_of_a_rank(owner, world, health, expected):
    html = owner.browser.get(URL, {"health": health}).content.decode()
    assert set(names(html)) == expected
    assert f'<option value="{health}" selected>' in html


def test_no_score_includes_accounts_whose_profile_could_not_rank_them(owner, world):
    set_health(world["acme"], None)
    html = owner.browser.get(URL, {"health": "none"}).content.decode()
    assert set(names(html)) == {"Hooli", "Acme"}


def test_the_health_filter_combines_with_status_and_owner(owner, world):
    alice = world["members"]["alice"]
    html = owner.browser.get(
        URL, {"status": "paying", "health": "poor", "owner": alice.pk}
    ).content.decode()
    assert names(html) == ["Initech"]


def test_an_unknown_rank_is_ignored(owner, world):
    html = owner.browser.get(URL, {"health": "splendid"}).content.decode()
    assert len(names(html)) == 7


def test_sorting_and_paging_links_keep_the_health_filter(owner, world):
    html = owner.browser.get(URL, {"health": "poor"}).content.decode()
    assert 'href="/accounts/?health=poor&amp;sort=-updated"' in html
    assert "Clear filters" in html and 'href="/accounts/"' in html


def test_an_htmx_filter_change_pushes_the_filtered_address(owner, world):
    response = owner.browser.get(
        URL, {"status": "paying", "health": "average"}, HTTP_HX_REQUEST="true"
    )
    assert response["HX-Push-Url"] == "/accounts/?status=paying&health=average"
    assert names(response.content.decode()) == ["Globex"]


def test_the_health_columns_and_filter_do_not_add_queries_per_row(
    owner, world, workspace, django_assert_max_num_queries
):
    params = {"sort": "health", "health": "poor", "status": "paying"}
    owner.browser.get(URL, params)
    with CaptureQueriesContext(connection) as few:
        owner.browser.get(URL, params)
    for i in range(40):
        account = create_account(
            owner.actor, {"external_id": f"more-{i}", "name": f"More {i}", "status": "paying"}
        )
        set_health(account, "poor")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = owner.browser.get(URL, params)
    assert len(names(response.content.decode())) == 42
