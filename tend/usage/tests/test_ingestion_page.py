"""Data → Ingestion: every member sees whether data flows and what was refused; admins
manage ingest keys and usage settings; outsiders see only their own workspace."""

import datetime
import json
import re

import orjson
import pytest
from django.test import Client
from django.utils import timezone

from tend.accounts.actions import definitions
from tend.test import token_client
from tend.usage.ingest.facts import Reason
from tend.usage.models import UsageEvent, UsageSettings
from tend.usage.rollups import roll_up
from tend.usage.tests.ingestion_traffic import native_events, segment_calls, send_sample_traffic
from tend.usage.views.ingestion import PAGE_SIZE
from tend.workspaces.actions import create_api_token
from tend.workspaces.models import ApiToken

pytestmark = pytest.mark.django_db
PAGE = "/data/ingestion/"
CREATE_KEY = "/data/ingestion/keys/"
SETTINGS = "/data/ingestion/settings/"
RAW_KEY = re.compile(r"tend_[A-Za-z0-9_-]{40,}")


def revoke_url(token) -> str:
    return f"/data/ingestion/keys/{token.pk}/revoke/"


def chart_data(response) -> dict:
    match = re.search(
        rb'<script id="volume-data" type="application/json">(.*?)</script>', response.content
    )
    assert match, "the page has no chart data"
    return json.loads(match.group(1))


def field_errors(html: str, name: str) -> str:
    """The error list that follows the input named ``name`` inside its field."""
    match = re.search(
        rf'name="{name}".*?(?:<ul class="errorlist">(.*?)</ul>|</div>\s*</div>|<div class="field)',
        html,
        re.S,
    )
    assert match, f"no field {name}"
    return match.group(1) or ""


def test_every_member_sees_volumes_refusals_and_unmapped_traits(owner, viewer):
    send_sample_traffic(owner.workspace)
    for persona in (owner, viewer):
        response = persona.browser.get(PAGE)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Volumes by source" in html
        assert 'id="volume-chart"' in html
        assert "missing_field" in html and "future_timestamp" in html
        assert "Orphan event" in html  # the refused item's payload sample
        assert "plan_tier" in html and "favouriteColour" in html
    totals = chart_data(owner.browser.get(PAGE))
    assert [s["key"] for s in totals["sources"]] == ["api", "segment"]
    assert sum(totals["series"]["received"]["api"]) == 5
    assert sum(totals["series"]["rejected"]["api"]) == 2
    assert sum(totals["series"]["duplicates"]["api"]) == 1


def test_the_navigation_leads_to_the_ingestion_page(viewer):
    html = viewer.browser.get("/data-model/").content.decode()
    assert f'href="{PAGE}" class="nav-item' in html


def test_the_page_keeps_a_bounded_query_count(owner, django_assert_max_num_queries):
    send_sample_traffic(owner.workspace)
    segment_calls(
        owner.workspace,
        accounts=[(f"acct-{n}", {f"trait_{n}": n}) for n in range(40)],
        rejections=[(Reason.INVALID_FIELD, "event", "expected text", "{}")] * 60,
    )
    for n in range(5):
        create_api_token(owner.actor, name=f"Key {n}", scopes=["ingest"])
    client = owner.browser
    client.get(PAGE)  # the first request saves the session; count a steady-state one
    with django_assert_max_num_queries(15):
        response = client.get(PAGE + "?period=30d")
    assert response.status_code == 200
    assert response.content.count(b'class="badge badge-failed reason"') == PAGE_SIZE


def test_an_empty_workspace_says_what_to_do_next(owner, viewer):
    ApiToken.objects.filter(workspace=owner.workspace).delete()  # the personas' own tokens
    html = owner.browser.get(PAGE).content.decode()
    assert "No events yet" in html
    assert "create an ingest key and send your first event" in html.lower()
    assert 'id="volume-chart"' not in html
    assert "Nothing refused" in html
    assert "No ingest keys yet" in html and "Create one below" in html
    assert "Ask an admin to create one" in viewer.browser.get(PAGE).content.decode()


def test_the_status_counts_events_waiting_for_the_rollups(owner):
    native_events(
        owner.workspace, [{"account_external_id": "acme", "activity": "Saved"} for _ in range(3)]
    )
    html = owner.browser.get(PAGE).content.decode()
    assert re.search(r'id="events-waiting">\s*3<', html)
    assert "Catching up" in html
    roll_up()
    html = owner.browser.get(PAGE).content.decode()
    assert re.search(r'id="events-waiting">\s*0<', html)
    assert "Up to date" in html
    assert "REST API" in html and "this hour" in html


def test_the_period_switch_counts_per_hour_or_per_day(owner):
    now = timezone.now()
    native_events(owner.workspace, [{"account_external_id": "a", "activity": "x"}], at=now)
    three_days_ago = now - datetime.timedelta(days=3)
    native_events(
        owner.workspace,
        [{"account_external_id": "a", "activity": "x"}] * 2,
        at=three_days_ago,
    )
    hourly = chart_data(owner.browser.get(PAGE))
    assert len(hourly["labels"]) == 24
    assert sum(hourly["series"]["received"]["api"]) == 1
    weekly = chart_data(owner.browser.get(PAGE + "?period=7d"))
    assert len(weekly["labels"]) == 7
    assert weekly["series"]["received"]["api"][-1] == 1
    assert weekly["series"]["received"]["api"][-4] == 2
    assert len(chart_data(owner.browser.get(PAGE + "?period=30d"))["labels"]) == 30


# --- access ------------------------------------------------------------------------------------


def test_a_viewer_sees_no_key_or_settings_controls(viewer, owner):
    create_api_token(owner.actor, name="Backend", scopes=["ingest"])
    send_sample_traffic(owner.workspace)
    html = viewer.browser.get(PAGE).content.decode()
    assert "Backend" in html
    assert "Create ingest key" not in html and "Revoke" not in html
    assert "Save settings" not in html and 'name="retention_days"' not in html
    assert "Define attribute" not in html
    assert "Only admins can change these." in html and "400 days" in html


def test_a_viewer_cannot_create_or_revoke_keys_or_change_settings(viewer, owner):
    token, _ = create_api_token(owner.actor, name="Backend", scopes=["ingest"])
    client = viewer.browser
    assert client.post(CREATE_KEY, {"name": "Mine"}).status_code == 403
    assert client.post(revoke_url(token)).status_code == 403
    assert (
        client.post(SETTINGS, {"module_property": "area", "retention_days": 90}).status_code == 403
    )
    assert not ApiToken.objects.filter(name="Mine").exists()
    token.refresh_from_db()
    assert token.revoked_at is None
    assert not UsageSettings.objects.filter(workspace=owner.workspace).exists()


def test_an_outsider_sees_only_their_own_workspace(owner, outsider):
    send_sample_traffic(owner.workspace)
    token, _ = create_api_token(owner.actor, name="Victim key", scopes=["ingest"])
    html = outsider.browser.get(PAGE).content.decode()
    assert "No events yet" in html
    for secret in ("Orphan event", "plan_tier", "Victim key", "2099-01-01", token.prefix):
        assert secret not in html
    assert outsider.browser.post(revoke_url(token)).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_only_ingest_keys_can_be_revoked_here(owner):
    token, _ = create_api_token(owner.actor, name="Warehouse", scopes=["read"])
    assert owner.browser.post(revoke_url(token)).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


# --- ingest keys ---------------------------------------------------------------------------------


def test_a_new_key_is_shown_once_and_stores_events(owner):
    client = owner.browser
    response = client.post(CREATE_KEY, {"name": "Product backend"})
    assert response.status_code == 302
    assert response["Location"].endswith(PAGE + "#new-key")
    token = ApiToken.objects.get(name="Product backend")
    assert token.scopes == ["ingest"]

    shown = client.get(PAGE)
    assert shown["Cache-Control"] == "no-store"
    html = shown.content.decode()
    raw = RAW_KEY.search(html.split('id="new-key-value">', 1)[1]).group(0)
    assert raw.startswith(token.prefix)
    # Every snippet uses the new key instead of the placeholder.
    assert html.count(raw) >= 7 and "&lt;your ingest key&gt;" not in html

    again = client.get(PAGE).content.decode()
    assert raw not in again and "&lt;your ingest key&gt;" in again

    answer = token_client(raw).post(
        "/api/v1/events",
        data=orjson.dumps([{"account_external_id": "acme", "activity": "Signed in"}]),
        content_type="application/json",
    )
    assert answer.status_code == 200 and answer.json()["stored"] == 1
    assert UsageEvent.objects.filter(workspace=owner.workspace, activity="Signed in").count() == 1


def test_a_revoked_key_is_refused_with_401(owner):
    token, raw = create_api_token(owner.actor, name="Old backend", scopes=["ingest"])
    response = owner.browser.post(revoke_url(token))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    answer = token_client(raw).post(
        "/api/v1/events",
        data=orjson.dumps([{"account_external_id": "acme", "activity": "Signed in"}]),
        content_type="application/json",
    )
    assert answer.status_code == 401
    assert not UsageEvent.objects.exists()
    assert "Old backend" not in owner.browser.get(PAGE).content.decode().split('id="keys"')[1]


def test_a_key_needs_a_name(owner):
    before = ApiToken.objects.count()
    response = owner.browser.post(CREATE_KEY, {"name": "  "})
    assert response.status_code == 422
    assert "This field is required." in field_errors(response.content.decode(), "name")
    assert ApiToken.objects.count() == before


def test_the_snippets_use_this_servers_address(owner, settings):
    settings.ALLOWED_HOSTS = ["tend.example.com"]
    html = owner.browser.get(PAGE, HTTP_HOST="tend.example.com").content.decode()
    assert 'host="http://tend.example.com/ingest/segment"' in html.replace("&quot;", '"')
    assert "http://tend.example.com/api/v1/events" in html
    assert (
        "http://tend.example.com/ingest/totango/pixel.gif?sdr_s=&lt;your ingest key&gt;&amp;sdr_o=acme"
        in html
    )
    assert "http://tend.example.com/ingest/planhat/analytics/bulk/&lt;your ingest key&gt;" in html
    assert "http://tend.example.com/ingest/planhat/dimensiondata/&lt;your ingest key&gt;" in html
    assert "from rudderstack.analytics import Client" in html


# --- usage settings --------------------------------------------------------------------------------


def test_an_admin_saves_the_usage_settings(owner):
    definitions.create_attribute(owner.actor, {"key": "seats", "label": "Seats", "type": "number"})
    response = owner.browser.post(
        SETTINGS,
        {"module_property": "area", "licence_attribute": "seats", "retention_days": "90"},
    )
    assert response.status_code == 302
    settings = UsageSettings.objects.get(workspace=owner.workspace)
    assert (
        settings.create_unknown,
        settings.module_property,
        settings.licence_attribute,
        settings.retention_days,
    ) == (False, "area", "seats", 90)


def test_setting_errors_are_shown_beside_their_field(owner):
    response = owner.browser.post(
        SETTINGS,
        {
            "create_unknown": "on",
            "module_property": "module",
            "licence_attribute": "licenses",
            "retention_days": "5",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "must be between 30 and 3650 days" in field_errors(html, "retention_days")
    assert field_errors(html, "module_property") == ""
    assert not UsageSettings.objects.filter(workspace=owner.workspace).exists()

    response = owner.browser.post(
        SETTINGS,
        {"module_property": "", "licence_attribute": "plan", "retention_days": "x"},
    )
    html = response.content.decode()
    assert "This field is required." in field_errors(html, "module_property")
    assert "Select a valid choice" in field_errors(html, "licence_attribute")
    assert "Enter a whole number." in field_errors(html, "retention_days")


def test_the_licence_attribute_offers_numeric_account_attributes(owner):
    definitions.create_attribute(owner.actor, {"key": "seats", "label": "Seats", "type": "number"})
    definitions.create_attribute(owner.actor, {"key": "plan", "label": "Plan", "type": "text"})
    definitions.create_attribute(
        owner.actor, {"key": "logins", "label": "Logins", "type": "number", "object_type": "user"}
    )
    html = owner.browser.get(PAGE).content.decode()
    select = html.split('name="licence_attribute"', 1)[1].split("</select>", 1)[0]
    assert 'value="seats"' in select
    assert 'value="licenses"' in select and "not defined in the data model" in select
    assert 'value="plan"' not in select and 'value="logins"' not in select


# --- CSRF ---------------------------------------------------------------------------------------------


def test_the_page_forms_need_a_csrf_token(owner):
    token, _ = create_api_token(owner.actor, name="Backend", scopes=["ingest"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.member.user)
    posts = [
        (CREATE_KEY, {"name": "Sneaky"}),
        (revoke_url(token), {}),
        (SETTINGS, {"module_property": "x", "licence_attribute": "licenses", "retention_days": 60}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert not ApiToken.objects.filter(name="Sneaky").exists()
    token.refresh_from_db()
    assert token.revoked_at is None

    client.get(PAGE)  # sets the CSRF cookie, as the browser gets it with the form
    csrf = client.cookies["csrftoken"].value
    for url, data in posts:
        assert client.post(url, {**data, "csrfmiddlewaretoken": csrf}).status_code == 302, url
    assert ApiToken.objects.filter(name="Sneaky").exists()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert UsageSettings.objects.get(workspace=owner.workspace).retention_days == 60


# --- refused items and unmapped traits --------------------------------------------------------


def refusals(workspace, count: int, reason=Reason.INVALID_FIELD, source_calls=segment_calls):
    source_calls(workspace, rejections=[(reason, "event", "expected text", "{}")] * count)


def test_refused_items_are_filtered_and_paged_newest_first(owner):
    refusals(owner.workspace, 25)
    refusals(owner.workspace, 3, reason=Reason.FUTURE_TIMESTAMP)
    native_events(owner.workspace, [{"activity": "no account"}])
    client = owner.browser

    html = client.get(PAGE + "?reason=future_timestamp").content.decode()
    assert html.count('class="badge badge-failed reason"') == 3
    html = client.get(PAGE + "?source=api").content.decode()
    assert html.count('class="badge badge-failed reason"') == 1
    assert "missing_field" in html

    seen, url, pages = 0, PAGE + "?source=segment", 0
    while url:
        response = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="refused")
        html = response.content.decode()
        assert html.lstrip().startswith('<section class="card" id="refused">')
        seen += html.count('class="badge badge-failed reason"')
        pages += 1
        older = re.search(r'href="([^"]+)"[^>]*>Older', html)
        url = older.group(1).replace("&amp;", "&") if older else None
        assert url is None or "source=segment" in url
    assert (seen, pages) == (28, -(-28 // PAGE_SIZE))


def test_the_refused_list_keeps_a_bounded_query_count(owner, django_assert_max_num_queries):
    refusals(owner.workspace, 80)
    client = owner.browser
    client.get(PAGE)
    with django_assert_max_num_queries(5):
        response = client.get(PAGE, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="refused")
    assert response.content.count(b'class="badge badge-failed reason"') == PAGE_SIZE


def test_an_old_cursor_starts_again_from_the_newest(owner):
    refusals(owner.workspace, 2)
    response = owner.browser.get(PAGE + "?refused_cursor=not-a-cursor")
    assert response.status_code == 200
    assert response.content.count(b'class="badge badge-failed reason"') == 2


def test_an_unmapped_trait_links_to_a_prefilled_attribute_form(owner):
    segment_calls(owner.workspace, accounts=[("acme", {"contractValue": 1200})])
    html = owner.browser.get(PAGE).content.decode()
    link = re.search(r'href="([^"]+)">Define attribute', html).group(1).replace("&amp;", "&")
    assert link.startswith("/data-model/?")
    form = owner.browser.get(link).content.decode()
    assert 'value="contract_value"' in form and 'value="Contract value"' in form


def test_unmapped_traits_are_paged(owner):
    total = PAGE_SIZE + 5
    segment_calls(owner.workspace, accounts=[(f"a{n}", {f"trait_{n}": n}) for n in range(total)])
    html = owner.browser.get(PAGE).content.decode()
    first = html.split('id="unmapped-traits"')[1].count("<code>trait_")
    older = re.search(r'href="([^"]+traits_cursor[^"]+)"', html).group(1).replace("&amp;", "&")
    rest = owner.browser.get(older).content.decode()
    assert (first, rest.split('id="unmapped-traits"')[1].count("<code>trait_")) == (PAGE_SIZE, 5)
