"""The accounts list's usage columns: last seen, active users, visit frequency, engagement;
sortable both ways with accounts that have no usage last, in a fixed number of queries."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.accounts.actions.accounts import create_account
from tend.accounts.models import Account
from tend.usage.models import AccountUsage
from tend.usage.tests.usage_history import NOW, build_history, send_events, ts_of

pytestmark = pytest.mark.django_db
URL = "/accounts/"


def names(html: str) -> list[str]:
    return re.findall(r'<td class="account-name"><a [^>]*>(.*?)</a>', html)


def row_of(html: str, name: str) -> str:
    start = html.index(f">{name}</a>")
    return html[start : html.index("</tr>", start)]


@pytest.fixture
def base(owner):
    """Acme and Acme EU with the hand-built history, and Quiet with no usage at all."""
    accounts = build_history(owner)
    accounts["quiet"] = create_account(owner.actor, {"external_id": "quiet", "name": "Quiet"})
    return accounts


def test_the_list_shows_the_four_usage_columns(owner, base):
    html = owner.browser.get(URL).content.decode()
    for label in ("Last seen", "Active users", "Frequency", "Engagement"):
        assert f"{label} " in html, label
    acme = row_of(html, "Acme")
    # Last seen relative, the exact local time in the tooltip.
    assert re.search(
        r'title="\w{3} \d+ \w{3} \d{4}, 12:00 \(UTC\)">(just now|\d+ (min|h) ago)<', acme
    ), acme
    assert ">2</td>" in acme and ">Weekly</td>" in acme
    quiet = row_of(html, "Quiet")
    assert quiet.count('title="No usage received yet"') == 4
    assert quiet.count('<span class="faint">—</span>') >= 4


def test_the_active_users_tooltip_gives_the_other_windows(owner, base):
    acme = row_of(owner.browser.get(URL).content.decode(), "Acme")
    assert "End users active in the last 14 days (7 days: 1, 30 days: 2)" in acme


@pytest.mark.parametrize(
    "sort, expected",
    [
        # Acme was seen at noon today, Acme EU ten minutes before; Quiet never.
        ("-last_seen", ["Acme", "Acme EU", "Quiet"]),
        ("last_seen", ["Acme EU", "Acme", "Quiet"]),
        ("-active_users", ["Acme", "Acme EU", "Quiet"]),
        ("active_users", ["Acme EU", "Acme", "Quiet"]),
        ("-engagement", ["Acme EU", "Acme", "Quiet"]),
        ("engagement", ["Acme", "Acme EU", "Quiet"]),
        ("-visit_frequency", ["Acme", "Acme EU", "Quiet"]),
        ("visit_frequency", ["Acme EU", "Acme", "Quiet"]),
    ],
)
def test_each_usage_column_sorts_both_ways_with_no_usage_last(owner, base, sort, expected):
    AccountUsage.objects.filter(account=base["acme-eu"]).update(
        engagement=70, visit_frequency="occasionally", active_users_14d=1
    )
    AccountUsage.objects.filter(account=base["acme"]).update(engagement=30)
    html = owner.browser.get(URL, {"sort": sort}).content.decode()
    assert names(html) == expected


def test_the_sort_headers_and_menu_offer_the_usage_columns(owner, base):
    html = owner.browser.get(URL).content.decode()
    assert 'href="/accounts/?sort=-last_seen"' in html
    assert 'href="/accounts/?sort=-engagement"' in html
    assert '<option value="-last_seen">Recently seen</option>' in html
    assert '<option value="engagement">Least engaged</option>' in html


def test_the_usage_columns_do_not_add_queries_per_row(
    owner, base, workspace, django_assert_max_num_queries
):
    owner.browser.get(URL)
    with CaptureQueriesContext(connection) as small:
        owner.browser.get(URL, {"sort": "-last_seen"})
    events = [(f"acct-{i}", f"user-{i}", "Logged in", "Core", i % 30, 0, None) for i in range(40)]
    send_events(workspace, events)
    from tend.usage import rollups

    rollups.roll_up(now=NOW)
    assert AccountUsage.objects.count() == 42
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = owner.browser.get(URL, {"sort": "-last_seen"})
    listed = names(response.content.decode())
    assert len(listed) == 43 and listed[-1] == "Quiet"


def test_last_seen_reads_in_the_workspaces_time_zone(owner, base, workspace):
    workspace.time_zone = "Asia/Tokyo"
    workspace.save(update_fields=["time_zone"])
    acme = row_of(owner.browser.get(URL).content.decode(), "Acme")
    # Noon UTC is 21:00 in Tokyo.
    assert "21:00 (Asia/Tokyo)" in acme
    assert Account.objects.get(pk=base["acme"].pk).usage.last_seen_ms == ts_of(0)
