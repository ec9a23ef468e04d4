"""API rate limits: RateLimit-* headers on every answer, 429 with Retry-After past the limit."""

import pytest
from django.core.cache import cache

from tend.test import make_token, token_client
from tend.workspaces import ratelimit

URL = "/api/v1/accounts"


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()


def test_every_api_response_carries_the_headers(owner, settings):
    settings.TEND_RATE_LIMIT_PER_MINUTE = 50
    response = owner.api.get(URL)
    assert response["RateLimit-Limit"] == "50"
    assert response["RateLimit-Remaining"] == "49"
    assert 1 <= int(response["RateLimit-Reset"]) <= 60
    assert owner.api.get(URL)["RateLimit-Remaining"] == "48"


def test_pages_outside_the_api_are_not_limited(owner):
    assert "RateLimit-Limit" not in owner.browser.get("/login/")


def test_past_the_limit_the_answer_is_429_with_retry_after(owner, workspace, settings):
    settings.TEND_RATE_LIMIT_PER_MINUTE = 3
    for _ in range(3):
        assert owner.api.get(URL).status_code == 200
    response = owner.api.get(URL)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["RateLimit-Remaining"] == "0"
    assert "Rate limit" in response.json()["detail"]
    assert response.json()["errors"] == []
    # Another token has its own allowance; so does the same member's browser session.
    assert token_client(make_token(workspace, ("read",))).get(URL).status_code == 200
    assert owner.browser.get(URL).status_code == 200


def test_a_failing_cache_lets_requests_through(owner, settings, monkeypatch):
    settings.TEND_RATE_LIMIT_PER_MINUTE = 1

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(ratelimit.cache, "add", broken)
    for _ in range(3):
        response = owner.api.get(URL)
        assert response.status_code == 200
    assert response["RateLimit-Remaining"] == "1"
