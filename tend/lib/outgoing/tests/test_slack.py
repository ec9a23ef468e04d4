"""Slack incoming webhooks: the body, the URL check, and Slack's answers classified."""

import json

import pytest

from tend.lib.outgoing import Outcome, check_slack_url, escape_text, post_to_slack, slack_message
from tend.lib.outgoing.tests.conftest import LOOPBACK
from tend.lib.outgoing.tests.servers import HttpServer, Reply


def test_the_body_carries_the_text_and_blocks():
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Acme* turned Poor"}}]
    assert json.loads(slack_message("Acme turned Poor", blocks)) == {
        "text": "Acme turned Poor",
        "blocks": blocks,
    }
    assert json.loads(slack_message("Hi ✓")) == {"text": "Hi ✓"}


def test_text_longer_than_slack_allows_is_cut_and_says_so():
    text = json.loads(slack_message("x" * 50_000))["text"]
    assert len(text) == 40_000
    assert text.endswith("longer than Slack allows)")


@pytest.mark.parametrize(
    ("text", "blocks"),
    [("", None), ("   ", None), ("ok", [{"type": "section"}] * 51), ("ok", [{"text": "no type"}])],
)
def test_a_message_slack_would_refuse_is_an_error_before_sending(text, blocks):
    with pytest.raises(ValueError):
        slack_message(text, blocks)


def test_values_are_escaped_so_an_account_name_cannot_ping_a_channel():
    assert escape_text("<!channel> & <https://evil|bank>") == (
        "&lt;!channel&gt; &amp; &lt;https://evil|bank&gt;"
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://hooks.slack.com/services/T000/B000/XXXX", None),
        ("https://hooks.slack.com/triggers/T000/1/abc", None),
        ("http://hooks.slack.com/services/T000/B000/XXXX", "starts with https://hooks.slack.com/"),
        ("https://hooks.slack.com.evil.example/services/x", "starts with https://hooks.slack.com/"),
        ("https://hooks.slack.com/api/x", "looks like https://hooks.slack.com/services/"),
        ("ftp://hooks.slack.com/services/x", "only http and https"),
    ],
)
def test_check_slack_url(url, problem):
    answer = check_slack_url(url)
    if problem is None:
        assert answer is None
    else:
        assert problem in answer


def test_ok_is_delivered_and_the_message_arrives_as_json():
    with HttpServer(lambda r: Reply(200, b"ok")) as slack:
        result = post_to_slack(
            slack.url("/services/T/B/X"), "Renewal in 90 days: Acme", allow=LOOPBACK
        )
    assert result.delivered
    [request] = slack.requests
    assert request.headers["content-type"].startswith("application/json")
    assert json.loads(request.body) == {"text": "Renewal in 90 days: Acme"}


@pytest.mark.parametrize(
    ("status", "code", "outcome", "explained"),
    [
        (400, "invalid_payload", Outcome.PERMANENT, "could not read the message"),
        (403, "invalid_token", Outcome.PERMANENT, "no longer valid"),
        (404, "channel_not_found", Outcome.PERMANENT, "channel no longer exists"),
        (404, "no_service", Outcome.PERMANENT, "removed or disabled"),
        (410, "channel_is_archived", Outcome.GONE, "archived"),
        (500, "rollup_error", Outcome.RETRY, None),
    ],
)
def test_slacks_error_codes_are_classified_and_quoted(status, code, outcome, explained):
    with HttpServer(lambda r: Reply(status, code.encode())) as slack:
        result = post_to_slack(slack.url("/services/T/B/X"), "hello", allow=LOOPBACK)
    assert result.outcome is outcome
    assert f"Slack answered {status}" in result.reason
    assert code in result.reason
    if explained:
        assert explained in result.reason


def test_an_html_error_page_is_not_quoted_as_a_slack_code():
    page = b"<html><body>502 Bad Gateway</body></html>"
    with HttpServer(lambda r: Reply(502, page)) as slack:
        result = post_to_slack(slack.url("/services/T/B/X"), "hello", allow=LOOPBACK)
    assert result.outcome is Outcome.RETRY
    assert result.reason == "502 Bad Gateway"
    assert result.response_body == page  # still kept for the log


def test_rate_limiting_is_retried_after_the_time_slack_asks_for():
    reply = Reply(429, b"rate_limited", {"Retry-After": "30"})
    with HttpServer(lambda r: reply) as slack:
        result = post_to_slack(slack.url("/services/T/B/X"), "hello", allow=LOOPBACK)
    assert result.outcome is Outcome.RETRY
    assert result.retry_after == 30
    assert "retry after 30 s" in result.reason


def test_a_refused_slack_url_keeps_the_refusal_reason():
    result = post_to_slack("http://169.254.169.254/services/x", "hello")
    assert result.refused
    assert "link-local" in result.reason
