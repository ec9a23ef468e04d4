"""In a real browser: an admin shapes the data model and creates an API token that works."""

import json
import urllib.error
import urllib.request

import pytest

from tend.accounts.models import AttributeDefinition, Stage
from tend.workspaces.models import ApiToken, hash_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def api_get(live_server, path: str, token: str) -> tuple[int, dict]:
    url = live_server.url + path
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our own live server)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_an_admin_defines_an_attribute_and_a_stage_and_creates_a_working_token(
    login, owner, live_server
):
    page = login(owner)

    page.goto("/data-model/")
    page.fill("#new-attribute input[name=label]", "Renewal date")
    page.fill("#new-attribute input[name=key]", "renewal_date")
    page.select_option("#new-attribute select[name=type]", "date")
    page.click("#new-attribute button[type=submit]")
    page.wait_for_selector("#attributes >> text=renewal_date")
    assert AttributeDefinition.objects.get(key="renewal_date").type == "date"

    page.click("nav.tabs >> text=Journey stages")
    page.fill("#new-stage input[name=name]", "Expansion")
    page.click("#new-stage button[type=submit]")
    page.wait_for_selector("#stages >> text=Expansion")
    assert Stage.objects.filter(name="Expansion").exists()

    page.goto("/settings/tokens/")
    page.fill("#new-token input[name=name]", "Warehouse sync")
    page.check("#new-token input[value=write]")
    page.click("#new-token button[type=submit]")
    raw = page.text_content(".secret-box#new-token-value").strip()
    assert page.is_visible("text=shown only this once")
    assert ApiToken.objects.get(name="Warehouse sync").token_hash == hash_token(raw)

    page.reload()
    assert page.query_selector("#new-token-value") is None
    assert raw not in page.content()

    status, body = api_get(live_server, "/api/v1/accounts", raw)
    assert status == 200, body
    assert "items" in body
    status, body = api_get(live_server, "/api/v1/attributes?key=renewal_date", raw)
    assert [item["label"] for item in body["items"]] == ["Renewal date"]
