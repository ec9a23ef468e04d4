"""``GET /accounts/{id}/usage``, ``/users/{id}/usage``, ``/accounts/{id}/metrics/{metric}`` and
``/metrics``: known answers from a hand-built history, children rolled up, access and errors."""

import pytest

from tend.accounts.models import EndUser
from tend.lib.dates import from_ms
from tend.test import make_token, token_client
from tend.usage import rollups
from tend.usage.models import AccountUsage
from tend.usage.tests.usage_history import NOW, build_history, send_metric, ts_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(owner):
    return build_history(owner)


def usage(client, account, **params):
    return client.get(f"/api/v1/accounts/{account.pk}/usage", params)


def windows(body, prefix):
    return [body[f"{prefix}_{k}"] for k in ("today", "yesterday", "3d", "7d", "14d", "30d", "90d")]


def test_an_accounts_windows_count_its_own_events_on_their_local_days(owner, history):
    response = usage(owner.api, history["acme"])
    assert response.status_code == 200
    body = response.json()
    assert windows(body, "events") == [3, 2, 5, 6, 10, 11, 13]
    assert windows(body, "seconds") == [180.0, 0.0, 180.0, 180.0, 180.0, 180.0, 180.0]
    assert windows(body, "active_users") == [1, 1, 1, 1, 2, 2, 2]
    assert (body["include_children"], body["accounts_included"]) == (False, 1)
    assert body["as_of"] == NOW.date().isoformat()


def test_first_and_last_seen_are_exact_iso_timestamps(owner, history):
    body = usage(owner.api, history["acme"]).json()
    assert body["first_seen"] == from_ms(ts_of(40, 1)).isoformat()
    assert body["last_seen"] == NOW.isoformat()


def test_frequency_active_days_modules_and_licences_follow_the_rules(owner, history):
    body = usage(owner.api, history["acme"]).json()
    # Active on days 0, 1, 5 (this week) and 10 (last week): weekly, not daily (8 of 14).
    assert (body["active_days_14d"], body["visit_frequency"]) == (4, "weekly")
    assert body["modules"] == [
        {"module": "Core", "events": 5, "seconds": 0.0},
        {"module": "Reports", "events": 5, "seconds": 180.0},
        {"module": "Admin", "events": 1, "seconds": 0.0},
    ]
    assert (body["licences"], body["licence_utilisation"]) == (4.0, 0.5)


def test_the_engagement_is_the_one_the_rollup_computed(owner, history):
    # Under one event a day scores 0 (docs/usage.md): the rollup's own answer is read back.
    assert usage(owner.api, history["acme"]).json()["engagement"] == 0
    AccountUsage.objects.filter(account=history["acme"]).update(engagement=57)
    assert usage(owner.api, history["acme"]).json()["engagement"] == 57


def test_with_children_a_parent_counts_its_subtree_and_each_user_once(owner, history):
    body = usage(owner.api, history["acme"], include_children="true").json()
    assert (body["include_children"], body["accounts_included"]) == (True, 2)
    assert windows(body, "events") == [4, 3, 9, 10, 14, 15, 17]
    # u1 used both accounts yesterday: one active user, not two.
    assert windows(body, "active_users") == [2, 1, 2, 2, 3, 3, 3]
    assert body["modules"][:2] == [
        {"module": "Core", "events": 8, "seconds": 0.0},
        {"module": "Reports", "events": 6, "seconds": 180.0},
    ]
    assert (body["active_days_14d"], body["visit_frequency"]) == (5, "weekly")
    # Licences add up over the subtree: 3 active users of 4 + 6.
    assert (body["licences"], body["licence_utilisation"]) == (10.0, 0.3)
    assert body["last_seen"] == NOW.isoformat()


def test_a_rolled_up_engagement_weights_each_account_by_its_recent_events(owner, history):
    rows = {u.account_id: u for u in AccountUsage.objects.all()}
    assert (rows[history["acme"].pk].events_14d, rows[history["acme-eu"].pk].events_14d) == (10, 4)
    AccountUsage.objects.filter(account=history["acme"]).update(engagement=80)
    AccountUsage.objects.filter(account=history["acme-eu"]).update(engagement=20)
    body = usage(owner.api, history["acme"], include_children="true").json()
    assert body["engagement"] == 63  # (80 × 10 + 20 × 4) / 14 = 62.9


def test_a_child_alone_does_not_include_its_parent(owner, history):
    body = usage(owner.api, history["acme-eu"], include_children="true").json()
    assert body["accounts_included"] == 1
    assert windows(body, "events") == [1, 1, 4, 4, 4, 4, 4]


def test_an_account_without_usage_answers_zeros_and_no_seen_times(owner, workspace):
    from tend.accounts.actions.accounts import create_account

    quiet = create_account(owner.actor, {"external_id": "quiet", "name": "Quiet"})
    body = usage(owner.api, quiet).json()
    assert windows(body, "events") == [0] * 7
    assert (body["first_seen"], body["last_seen"], body["visit_frequency"]) == (
        None,
        None,
        "inactive",
    )
    assert (body["engagement"], body["licences"], body["modules"]) == (0, None, [])


def test_an_end_users_usage_spans_every_account_they_used(owner, history):
    u1 = EndUser.objects.get(external_id="u1")
    response = owner.api.get(f"/api/v1/users/{u1.pk}/usage")
    assert response.status_code == 200
    body = response.json()
    assert (body["external_id"], body["account_external_id"]) == ("u1", "acme")
    assert windows(body, "events") == [3, 3, 6, 7, 7, 7, 7]
    assert body["seconds_today"] == 180.0
    # Active on days 0, 1 and 5: this week only.
    assert (body["active_days_14d"], body["visit_frequency"]) == (3, "occasionally")
    assert body["first_seen"] == from_ms(ts_of(5)).isoformat()
    assert body["last_seen"] == NOW.isoformat()


def test_a_custom_metric_series_lists_the_days_with_values_oldest_first(owner, history, workspace):
    send_metric(workspace, "acme", "api_calls", {0: 12.0, 3: 7.5, 100: 1.0})
    send_metric(workspace, "acme-eu", "api_calls", {0: 3.0})
    account = history["acme"]
    response = owner.api.get(f"/api/v1/accounts/{account.pk}/metrics/api_calls", {"days": 7})
    assert response.status_code == 200
    body = response.json()
    today = NOW.date()
    assert (body["metric"], body["end"]) == ("api_calls", today.isoformat())
    assert body["start"] == (today.fromordinal(today.toordinal() - 6)).isoformat()
    assert [p["value"] for p in body["points"]] == [7.5, 12.0]
    rolled = owner.api.get(
        f"/api/v1/accounts/{account.pk}/metrics/api_calls",
        {"days": 7, "include_children": "true"},
    ).json()
    assert [p["value"] for p in rolled["points"]] == [7.5, 15.0]
    longer = owner.api.get(f"/api/v1/accounts/{account.pk}/metrics/api_calls", {"days": 120})
    assert len(longer.json()["points"]) == 3


def test_an_unknown_metric_key_is_404_in_the_house_shape(owner, history):
    response = owner.api.get(f"/api/v1/accounts/{history['acme'].pk}/metrics/nope")
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


def test_the_metrics_list_names_the_workspaces_custom_metrics(owner, history, workspace, outsider):
    send_metric(workspace, "acme", "api_calls", {0: 1.0})
    send_metric(workspace, "acme", "storage_gb", {0: 2.0})
    send_metric(outsider.workspace, "theirs", "secret_metric", {0: 3.0})
    response = owner.api.get("/api/v1/metrics")
    assert response.status_code == 200
    assert [m["key"] for m in response.json()["items"]] == ["api_calls", "storage_gb"]
    first = owner.api.get("/api/v1/metrics", {"limit": 1}).json()
    second = owner.api.get("/api/v1/metrics", {"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [m["key"] for m in first["items"] + second["items"]] == ["api_calls", "storage_gb"]
    assert second["next_cursor"] is None


def test_figures_are_fresh_after_the_next_rollup(owner, history, workspace):
    from tend.usage.tests.usage_history import send_events

    send_events(workspace, [("acme", "u9", "Logged in", "Core", 0, 1, None)])
    rollups.roll_up(now=NOW)
    body = usage(owner.api, history["acme"]).json()
    assert (body["events_today"], body["active_users_today"]) == (4, 2)


# --- access and errors ---------------------------------------------------------------------------


def test_an_outsider_gets_404_for_our_account_user_and_metric(outsider, history, workspace):
    send_metric(workspace, "acme", "api_calls", {0: 1.0})
    u1 = EndUser.objects.get(external_id="u1")
    acme = history["acme"]
    for url in (
        f"/api/v1/accounts/{acme.pk}/usage",
        f"/api/v1/accounts/{acme.pk}/usage?include_children=true",
        f"/api/v1/users/{u1.pk}/usage",
        f"/api/v1/accounts/{acme.pk}/metrics/api_calls",
    ):
        assert outsider.api.get(url).status_code == 404, url
    assert outsider.api.get("/api/v1/metrics").json()["items"] == []


def test_a_viewer_reads_usage_with_a_session_and_a_read_token(viewer, history):
    url = f"/api/v1/accounts/{history['acme'].pk}/usage"
    assert viewer.browser.get(url).json()["events_today"] == 3
    assert viewer.api.get(url).json()["events_today"] == 3
    # The reads are reads only: no method changes anything.
    assert viewer.api.post(url, data=b"{}", content_type="application/json").status_code == 405
    assert viewer.api.delete(url).status_code == 405


def test_a_token_without_the_read_scope_is_refused(workspace, history):
    ingest_only = token_client(make_token(workspace, ("ingest",), name="ingest key"))
    acme = history["acme"]
    for url in (f"/api/v1/accounts/{acme.pk}/usage", "/api/v1/events", "/api/v1/metrics"):
        response = ingest_only.get(url)
        assert response.status_code == 403, url
        assert "read" in response.json()["detail"]


def test_reads_need_authentication(client, history):
    response = client.get(f"/api/v1/accounts/{history['acme'].pk}/usage")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "url, field",
    [
        ("/api/v1/accounts/{id}/usage?include_children=perhaps", "include_children"),
        ("/api/v1/accounts/{id}/metrics/api_calls?days=0", "days"),
        ("/api/v1/accounts/{id}/metrics/api_calls?days=5000", "days"),
        ("/api/v1/accounts/{id}/metrics/api_calls?days=many", "days"),
        ("/api/v1/metrics?limit=0", "limit"),
        ("/api/v1/metrics?cursor=not-a-cursor", "cursor"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(owner, history, workspace, url, field):
    send_metric(workspace, "acme", "api_calls", {0: 1.0})
    response = owner.api.get(url.format(id=history["acme"].pk))
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["errors"][0]["field"] == field
    assert body["detail"].startswith(f"{field}:")
