"""In a real browser: an admin creates an ingest key on Data → Ingestion, a program sends
events with it, and the page shows the counts chart, the refused item with its reason, and
copies a snippet; a revoked key is refused."""

import json
import urllib.error
import urllib.request

import pytest

from tend.usage.models import UsageEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def post_events(live_server, key: str, events: list) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 (our own live server)
        live_server.url + "/api/v1/events",
        data=json.dumps(events).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def chart_sum(page, series_index: int = 0) -> int:
    """The sum of one series as drawn by ECharts (read back from the chart instance)."""
    return page.evaluate(
        """(i) => {
            const chart = echarts.getInstanceByDom(document.getElementById("volume-chart"));
            return chart.getOption().series[i].data.reduce((a, b) => a + b, 0);
        }""",
        series_index,
    )


def test_an_admin_creates_a_key_sends_events_and_sees_them_arrive(login, owner, live_server):
    page = login(owner)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto("/data/ingestion/")
    assert page.is_visible("text=No events yet")

    page.fill("#new-key-form input[name=name]", "Product backend")
    page.click("#new-key-form button[type=submit]")
    raw = page.text_content("#new-key-value").strip()
    assert page.is_visible("text=shown only this once")
    assert raw in page.text_content("#snippet-code-segment")

    good = [{"account_external_id": "acme", "activity": "Created report", "module": "Reports"}]
    status, body = post_events(live_server, raw, good)
    assert (status, body["stored"]) == (200, 1), body
    bad = [{"account_external_id": "acme", "activity": "Exported", "timestamp": "yesterday"}]
    status, body = post_events(live_server, raw, bad)
    assert (status, body["rejected"]) == (200, 1), body

    page.reload()
    assert page.query_selector("#new-key-value") is None
    assert raw not in page.content()
    page.wait_for_selector("#volume-chart canvas")
    assert chart_sum(page) == 2  # received, the measure shown first
    page.click(".measure-switch [data-measure=rejected]")
    assert chart_sum(page) == 1

    refused = page.locator("#refused-items tbody tr")
    assert refused.count() == 1
    row = refused.first.inner_text()
    assert "invalid_timestamp" in row and "is not an ISO 8601 timestamp" in row
    refused.first.locator("summary").click()
    assert "yesterday" in refused.first.locator("pre.sample").inner_text()

    page.select_option("#refused-source", "segment")
    page.wait_for_selector("#refused >> text=Nothing refused matches these filters")
    page.select_option("#refused-source", "api")
    page.wait_for_selector("#refused-items >> text=invalid_timestamp")

    page.click(".snippet-tabs >> text=REST API (curl)")
    page.click("#snippet-api .copy-button")
    page.wait_for_selector("#snippet-api .copy-button >> text=Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert f"{live_server.url}/api/v1/events" in copied
    assert "Authorization: Bearer <your ingest key>" in copied

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#ingest-keys tr:has-text('Product backend') >> text=Revoke")
    page.wait_for_selector("text=Ingest key “Product backend” revoked")
    status, body = post_events(live_server, raw, good)
    assert status == 401, body
    assert UsageEvent.objects.filter(workspace=owner.workspace).count() == 1
