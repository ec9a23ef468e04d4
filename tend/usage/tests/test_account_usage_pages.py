"""The usage panels of the account profile: figures, charts' data, end users, activity stream,
the child-account switch, empty states, access and bounded query counts."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.accounts.actions.accounts import create_account
from tend.accounts.models import EndUser
from tend.lib.cursor import encode_cursor
from tend.usage import rollups
from tend.usage.tests.usage_history import NOW, build_history, send_events, send_metric

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def history(owner):
    return build_history(owner)


def profile(persona, account, **params):
    return persona.browser.get(f"/accounts/{account.pk}/", params)


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def json_data(html: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert match, f"no {element_id} in the page"
    return json.loads(match.group(1))


def section(html: str, element_id: str) -> str:
    """The text of the element with ``element_id`` up to the next top-level section."""
    start = html.index(f'id="{element_id}"')
    end = html.find("<section", start + 1)
    return html[start : end if end != -1 else len(html)]


def cells(html: str) -> list[list[str]]:
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", c).split())
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in rows
    ]


# --- the usage panel ----------------------------------------------------------------------------


def test_the_panel_comes_first_with_the_key_figures(owner, history):
    html = html_of(profile(owner, history["acme"]))
    assert html.index('id="usage"') < html.index('id="attributes"')
    panel = section(html, "usage")
    assert "Just now" in panel or "h ago" in panel.lower() or "min ago" in panel
    assert 'freq freq-weekly">Weekly' in panel
    assert "4 of 14 days active" in panel
    assert "7 d: 1 · 30 d: 2" in panel
    assert "50<span" in panel and "2 of 4</div>" in panel


def test_the_time_frame_table_counts_events_users_and_time(owner, history):
    panel = section(html_of(profile(owner, history["acme"])), "usage")
    table = panel[panel.index("usage-windows") :]
    rows = [r for r in cells(table) if r][:7]
    assert rows == [
        ["Today", "3", "1", "3 min"],
        ["Yesterday", "2", "1", "—"],
        ["Last 3 days", "5", "1", "3 min"],
        ["Last 7 days", "6", "1", "3 min"],
        ["Last 14 days", "10", "2", "3 min"],
        ["Last 30 days", "11", "2", "3 min"],
        ["Last 90 days", "13", "2", "3 min"],
    ]


def test_the_charts_get_90_days_of_activity_and_the_modules_of_30(owner, history):
    html = html_of(profile(owner, history["acme"]))
    daily = json_data(html, "usage-daily-data")
    assert len(daily["dates"]) == len(daily["events"]) == len(daily["users"]) == 90
    assert daily["dates"][-1] == NOW.date().isoformat()
    assert daily["events"][-3:] == [0, 2, 3] and daily["users"][-3:] == [0, 1, 1]
    assert sum(daily["events"]) == 13
    modules = json_data(html, "usage-modules-data")
    # Drawn bottom-up: the busiest module is the last bar.
    assert modules["names"] == ["Admin", "Reports", "Core"]
    assert modules["events"] == [1, 5, 5]
    assert 'data-chart="daily"' in html and 'data-chart="modules"' in html


def test_echarts_is_loaded_by_the_profile_but_not_by_the_list(owner, history):
    assert "echarts-5.6.0.min.js" in html_of(profile(owner, history["acme"]))
    assert "echarts" not in html_of(owner.browser.get("/accounts/"))


def test_custom_metrics_with_values_get_a_small_chart_each(owner, history, workspace):
    send_metric(workspace, "acme", "api_calls", {0: 12.0, 2: 8.0})
    send_metric(workspace, "acme-eu", "seats_used", {0: 3.0})
    html = html_of(profile(owner, history["acme"]))
    assert "Custom metrics" in html and "api_calls" in html
    chart = json_data(html, "usage-metric-1")
    assert len(chart["values"]) == 90
    assert (
        chart["values"][-1] == 12.0 and chart["values"][-3] == 8.0 and chart["values"][-2] is None
    )
    # The child's metric shows only when its usage is rolled up.
    assert "seats_used" not in html
    assert "seats_used" in html_of(profile(owner, history["acme"], scope="children"))


def test_an_account_without_usage_says_how_to_send_events(owner, workspace):
    quiet = create_account(owner.actor, {"external_id": "quiet-co", "name": "Quiet Co"})
    html = html_of(profile(owner, quiet))
    panel = section(html, "usage")
    assert "No usage from Quiet Co yet" in panel
    assert 'href="/api/v1/docs"' in panel and 'href="/data/ingestion/"' in panel
    assert "<code>quiet-co</code>" in panel
    assert "echarts" not in html
    assert 'id="usage-users" hidden' in html and 'id="usage-activity" hidden' in html


# --- parents and children -------------------------------------------------------------------------


def test_a_parent_offers_to_include_its_children_and_rolls_them_up(owner, history):
    own = section(html_of(profile(owner, history["acme"])), "usage")
    assert "This account" in own and "Including child accounts" in own
    rolled = section(html_of(profile(owner, history["acme"], scope="children")), "usage")
    assert "2 accounts" in rolled
    rows = [r for r in cells(rolled[rolled.index("usage-windows") :]) if r]
    assert rows[0] == ["Today", "4", "2", "3 min"]
    assert rows[6] == ["Last 90 days", "17", "3", "3 min"]


def test_an_account_without_children_has_no_switch(owner, history):
    assert "Including child accounts" not in html_of(profile(owner, history["acme-eu"]))


def test_a_parent_without_usage_of_its_own_points_to_its_childrens(owner, history):
    group = create_account(owner.actor, {"external_id": "grp", "name": "Acme Group"})
    from tend.accounts.actions.accounts import update_account

    update_account(owner.actor, history["acme"], {"parent_external_id": "grp"})
    panel = section(html_of(profile(owner, group)), "usage")
    assert "No usage from Acme Group yet" in panel
    assert "include child accounts" in panel
    rolled = section(html_of(profile(owner, group, scope="children")), "usage")
    assert "3 accounts" in rolled and "Last 90 days" in rolled


def test_the_switch_swaps_all_three_panels_and_updates_the_address(owner, history):
    account = history["acme"]
    response = owner.browser.get(f"/accounts/{account.pk}/usage/", {"scope": "children"}, **HTMX)
    html = html_of(response)
    assert html.count('hx-swap-oob="true"') == 3
    assert 'id="usage"' in html and 'id="usage-users"' in html and 'id="usage-activity"' in html
    assert "<html" not in html
    assert response["HX-Push-Url"] == f"/accounts/{account.pk}/?scope=children"
    assert "Acme EU" in section(html, "usage-users")


def test_the_switch_without_htmx_goes_to_the_profile(owner, history):
    account = history["acme"]
    response = owner.browser.get(f"/accounts/{account.pk}/usage/", {"scope": "children"})
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/{account.pk}/?scope=children#usage"


# --- end users ------------------------------------------------------------------------------------


def add_users(workspace, count: int) -> None:
    send_events(
        workspace,
        [("acme", f"extra{i:02}", "Logged in", "Core", i % 20, i, None) for i in range(count)],
    )
    rollups.roll_up(now=NOW)


def user_names(html: str) -> list[str]:
    return re.findall(r'<div class="person-name">(.*?)</div>', section(html, "usage-users"))


def test_end_users_are_listed_most_recently_seen_first_with_their_counts(owner, history, workspace):
    EndUser.objects.create(workspace=workspace, external_id="never", account=history["acme"])
    html = html_of(profile(owner, history["acme"]))
    assert user_names(html) == ["u1", "u2", "never"]
    table = section(html, "usage-users")
    rows = [r for r in cells(table) if r]
    # Their own counts (u1 also used Acme EU yesterday), time spent under the 30 days'.
    assert rows[0][2:] == ["Occasionally", "7", "7 3 min"]
    assert rows[1][2:] == ["Occasionally", "0", "5"]
    assert rows[2][1] == "Never"


def test_end_users_sort_by_last_seen_both_ways_with_the_never_seen_last(owner, history, workspace):
    EndUser.objects.create(workspace=workspace, external_id="never", account=history["acme"])
    url = f"/accounts/{history['acme'].pk}/usage/users/"
    oldest_first = html_of(owner.browser.get(url, {"users_sort": "last_seen"}, **HTMX))
    assert user_names(oldest_first) == ["u2", "u1", "never"]
    busiest = html_of(owner.browser.get(url, {"users_sort": "-events_30d"}, **HTMX))
    assert user_names(busiest) == ["u1", "u2", "never"]
    by_name = html_of(owner.browser.get(url, {"users_sort": "name"}, **HTMX))
    assert user_names(by_name) == ["never", "u1", "u2"]


def test_end_users_are_paginated_by_ten(owner, history, workspace):
    add_users(workspace, 12)
    url = f"/accounts/{history['acme'].pk}/usage/users/"
    first = html_of(owner.browser.get(url, **HTMX))
    assert len(user_names(first)) == 10 and "1–10 of 14" in first
    second = html_of(owner.browser.get(url, {"users_activity_page": 2}, **HTMX))
    assert len(user_names(second)) == 4
    assert not set(user_names(first)) & set(user_names(second))


def test_the_users_fragment_without_htmx_goes_to_the_profile(owner, history):
    url = f"/accounts/{history['acme'].pk}/usage/users/"
    response = owner.browser.get(url, {"users_activity_page": 2})
    assert response.status_code == 302
    assert response["Location"].endswith("?users_activity_page=2#usage-users")


# --- the activity stream -------------------------------------------------------------------------


def stream_rows(html: str) -> list[list[str]]:
    return [r for r in cells(html) if len(r) >= 4 and r[0] and "Load" not in r[0]]


def test_the_stream_shows_the_latest_events_newest_first(owner, history):
    html = html_of(profile(owner, history["acme"]))
    rows = stream_rows(section(html, "usage-activity"))
    assert len(rows) == 13
    assert rows[0][0].startswith("Today") and rows[0][1] == "u1"
    assert rows[-1][2] == "Nightly sync" and rows[-1][1] == "—"
    assert "Load more" not in section(html, "usage-activity")


def test_load_more_appends_the_next_page_by_cursor(owner, history, workspace):
    send_events(workspace, [("acme", "u1", f"Step {i}", "Flow", 3, i, None) for i in range(20)])
    html = html_of(profile(owner, history["acme"]))
    panel = section(html, "usage-activity")
    first = stream_rows(panel)
    assert len(first) == 15
    more = re.search(r'hx-get="([^"]+)"[^>]*>Load more', panel).group(1).replace("&amp;", "&")
    rest = html_of(owner.browser.get(more, **HTMX))
    assert "<table" not in rest  # rows only, appended in place
    second = stream_rows(rest)
    assert len(second) == 15
    assert "Load more" in rest
    more = re.search(r'hx-get="([^"]+)"[^>]*>Load more', rest).group(1).replace("&amp;", "&")
    last = stream_rows(html_of(owner.browser.get(more, **HTMX)))
    assert len(first) + len(second) + len(last) == 33


def test_the_stream_filters_by_end_user_and_module(owner, history):
    account = history["acme"]
    u2 = EndUser.objects.get(external_id="u2")
    url = f"/accounts/{account.pk}/usage/activity/"
    by_user = stream_rows(html_of(owner.browser.get(url, {"user": u2.pk, "size": 15}, **HTMX)))
    assert {r[1] for r in by_user} == {"u2"} and len(by_user) == 5
    by_module = stream_rows(html_of(owner.browser.get(url, {"module": "Reports"}, **HTMX)))
    assert {r[3] for r in by_module} == {"Reports"} and len(by_module) == 5
    both = html_of(owner.browser.get(url, {"user": u2.pk, "module": "Reports"}, **HTMX))
    assert stream_rows(both) == [] and "No activity matches these filters" in both


def test_a_filter_change_swaps_only_the_results_under_the_form(owner, history):
    url = f"/accounts/{history['acme'].pk}/usage/activity/"
    headers = {**HTMX, "HTTP_HX_TARGET": "activity-results"}
    html = html_of(owner.browser.get(url, {"module": "Reports", "size": 15}, **headers))
    assert html.lstrip().startswith('<div id="activity-results">')
    assert "<form" not in html and len(stream_rows(html)) == 5
    assert "Showing all activity in Reports" in html and "Clear filters" in html


def test_the_stream_filters_offer_the_accounts_users_and_modules(owner, history):
    html = section(html_of(profile(owner, history["acme"])), "usage-activity")
    users = re.findall(r'<option value="\d+"[^>]*>(.*?)</option>', html)
    assert users == ["u1", "u2"]
    assert re.findall(r'<option value="([A-Z]\w+)"', html) == ["Admin", "Core", "Reports"]


def test_the_stream_without_htmx_is_a_page_with_older_links(owner, history, workspace):
    send_events(workspace, [("acme", "u1", f"Step {i}", "Flow", 3, i, None) for i in range(60)])
    account = history["acme"]
    html = html_of(owner.browser.get(f"/accounts/{account.pk}/usage/activity/"))
    assert "<html" in html and "<h1>Activity</h1>" in html
    assert len(stream_rows(html)) == 50
    older = (
        re.search(r'href="([^"]+)"[^>]*>Load older activity', html).group(1).replace("&amp;", "&")
    )
    page_two = html_of(owner.browser.get(older))
    assert len(stream_rows(page_two)) == 23 and "Newest activity" in page_two


@pytest.mark.parametrize(
    "params, field",
    [
        ({"user": "bob"}, "user"),
        ({"cursor": "nonsense"}, "cursor"),
        ({"module": "x" * 201}, "module"),
    ],
)
def test_a_bad_stream_parameter_is_400_naming_it(owner, history, params, field):
    url = f"/accounts/{history['acme'].pk}/usage/activity/"
    response = owner.browser.get(url, params, **HTMX)
    assert response.status_code == 400
    assert response.content.decode().startswith(f"{field}:")


def test_a_cursor_for_another_ordering_is_400(owner, history):
    url = f"/accounts/{history['acme'].pk}/usage/activity/"
    response = owner.browser.get(url, {"cursor": encode_cursor({"id": 3})}, **HTMX)
    assert response.status_code == 400


def test_a_bad_filter_on_the_profile_is_ignored(owner, history):
    html = html_of(profile(owner, history["acme"], user="bob"))
    assert len(stream_rows(section(html, "usage-activity"))) == 13


# --- access ---------------------------------------------------------------------------------------

PAGE_URLS = [
    "/accounts/{id}/usage/",
    "/accounts/{id}/usage/users/",
    "/accounts/{id}/usage/activity/",
]


@pytest.mark.parametrize("url", PAGE_URLS)
def test_an_outsider_gets_404(outsider, history, url):
    account = history["acme"]
    assert outsider.browser.get(url.format(id=account.pk), **HTMX).status_code == 404
    assert outsider.browser.get(url.format(id=account.pk)).status_code == 404


@pytest.mark.parametrize("url", PAGE_URLS)
def test_a_viewer_reads_and_cannot_post(viewer, history, url):
    account = history["acme"]
    assert viewer.browser.get(url.format(id=account.pk), **HTMX).status_code == 200
    assert viewer.browser.post(url.format(id=account.pk)).status_code == 405


def test_a_viewer_sees_the_usage_panels(viewer, history):
    html = html_of(profile(viewer, history["acme"]))
    assert 'id="usage"' in html and "Recent activity" in html and "End users by activity" in html


@pytest.mark.parametrize("url", PAGE_URLS)
def test_the_pages_require_login(client, history, url):
    response = client.get(url.format(id=history["acme"].pk))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_names_sent_by_products_are_escaped(owner, history, workspace):
    send_events(
        workspace, [("acme", "<b>x</b>", "<script>alert(1)</script>", "<i>m</i>", 0, 2, None)]
    )
    rollups.roll_up(now=NOW)
    html = html_of(profile(owner, history["acme"]))
    assert "<script>alert(1)</script>" not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- query counts ---------------------------------------------------------------------------------


def count_queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_profile_query_count_does_not_grow_with_usage(
    owner, history, workspace, django_assert_max_num_queries
):
    send_metric(workspace, "acme", "api_calls", {0: 1.0})
    profile(owner, history["acme"])  # log in, warm caches
    small = count_queries(lambda: profile(owner, history["acme"], scope="children"))
    add_users(workspace, 40)
    for n in range(5):
        send_metric(workspace, "acme", f"metric_{n}", {0: 1.0, 1: 2.0})
    with django_assert_max_num_queries(small):
        response = profile(owner, history["acme"], scope="children")
    assert len(user_names(response.content.decode())) == 10


def test_a_profile_without_usage_costs_no_more_queries_with_the_usage_panels(owner, workspace):
    quiet = create_account(owner.actor, {"external_id": "quiet", "name": "Quiet"})
    profile(owner, quiet)
    with CaptureQueriesContext(connection) as with_panels:
        profile(owner, quiet)
    from tend.accounts import extensions

    panels = dict(extensions._panels)
    try:
        # Only usage's panels: those of other apps (health) stay and cost the same both times.
        for key in ("usage", "usage_users", "usage_activity"):
            extensions._panels.pop(key)
        with CaptureQueriesContext(connection) as without:
            profile(owner, quiet)
    finally:
        extensions._panels.update(panels)
    # One query for the three panels, less what the accounts app's own end users section
    # costs, since the usage panel replaces it.
    assert len(with_panels.captured_queries) - len(without.captured_queries) <= 0


def test_the_stream_and_users_query_counts_are_fixed(
    owner, history, workspace, django_assert_max_num_queries
):
    account = history["acme"]
    stream = f"/accounts/{account.pk}/usage/activity/"
    users = f"/accounts/{account.pk}/usage/users/"
    owner.browser.get(stream, **HTMX)
    small_stream = count_queries(lambda: owner.browser.get(stream, **HTMX))
    small_users = count_queries(lambda: owner.browser.get(users, **HTMX))
    add_users(workspace, 60)
    with django_assert_max_num_queries(small_stream):
        response = owner.browser.get(stream, **HTMX)
    assert len(stream_rows(response.content.decode())) == 50
    with django_assert_max_num_queries(small_users):
        owner.browser.get(users, **HTMX)
