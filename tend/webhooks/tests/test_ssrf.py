"""SSRF at the webhook level: every URL form of tend/lib/outgoing's corpus (loopback in
decimal, octal, hex and IPv6-mapped spellings, metadata addresses, other schemes,
credentials, …) is refused when a webhook is saved — API and page alike — naming ``url``,
with nothing stored and no connection made; a name that later resolves to loopback, a URL
the allow-list no longer covers, and a redirect to loopback are refused at delivery time
before any connection."""

import socket

import pytest

from tend.lib.outgoing.tests.conftest import FakeResolver
from tend.lib.outgoing.tests.servers import HttpServer, Reply, SilentListener
from tend.lib.outgoing.tests.test_ssrf import REFUSED_URLS
from tend.webhooks import actions
from tend.webhooks.models import DeliveryStatus, Subscription
from tend.webhooks.tests.conftest import run_due_jobs
from tend.webhooks.tests.helpers import make_subscription

pytestmark = pytest.mark.django_db

# Forms worth naming here too, on top of the shared corpus.
MORE_URLS = [
    "http://[::ffff:7f00:1]:8080/hook",  # IPv6-mapped loopback, hex tail
    "http://0x7f000001:8000/",  # hex
    "http://2130706433:8000/",  # decimal
    "http://0177.0.0.01/",  # octal
    "http://169.254.169.254/computeMetadata/v1/",  # GCP metadata
    "http://[fd00:ec2::254]/latest/meta-data/",  # AWS metadata over IPv6
    "http://metadata.localhost/",
    "https://admin:admin@hooks.example.com/",
    "file:///proc/self/environ",
    "ws://hooks.example.com/",
    "http://localhost:6379/",
]
CORPUS = [url for url, _ in REFUSED_URLS] + MORE_URLS


@pytest.fixture
def connects(monkeypatch):
    attempts = []
    real = socket.socket.connect

    def spy(sock, address):
        attempts.append(address[:2])
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    return attempts


def test_the_corpus_has_at_least_thirty_forms():
    assert len(set(CORPUS)) >= 30


@pytest.mark.parametrize("url", CORPUS)
def test_each_form_is_refused_by_the_api_naming_url_without_connecting(owner, connects, url):
    response = owner.api.post(
        "/api/v1/webhooks",
        {"url": url, "event_types": ["account.created"]},
        content_type="application/json",
    )
    assert response.status_code == 422, (url, response.content)
    assert response.json()["errors"][0]["field"] == "url"
    assert not Subscription.objects.exists()
    assert connects == []


@pytest.mark.parametrize("url", MORE_URLS[:6])
def test_the_settings_page_refuses_them_beside_the_field(owner, connects, url):
    response = owner.browser.post(
        "/settings/webhooks/", {"url": url, "event_types": ["account.created"]}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["url"]
    assert not Subscription.objects.exists()
    assert connects == []


def test_a_name_that_now_resolves_to_loopback_is_refused_before_connecting(
    owner, monkeypatch, connects
):
    resolver = FakeResolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    listener = SilentListener()
    try:
        resolver.answer("hooks.example.com", ["93.184.216.34"], ["127.0.0.1"])
        subscription, _ = actions.create_subscription(
            owner.actor,
            {
                "url": f"http://hooks.example.com:{listener.port}/",
                "event_types": ["account.created"],
            },
        )
        delivery = actions.send_test_event(owner.actor, subscription)
        run_due_jobs()
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.FAILED
        assert delivery.reason.startswith("refused before connecting")
        assert "loopback" in delivery.reason
        assert not listener.was_contacted()
        assert connects == []
    finally:
        listener.close()


def test_a_stored_url_the_allow_list_no_longer_covers_is_refused(owner, settings, connects):
    listener = SilentListener()
    try:
        subscription = make_subscription(owner.workspace, url=listener.url("/hook"))
        settings.TEND_OUTGOING_ALLOW = ""  # the self-hoster removed the override
        delivery = actions.send_test_event(owner.actor, subscription)
        run_due_jobs()
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.FAILED
        assert "loopback" in delivery.reason
        assert not listener.was_contacted() and connects == []
    finally:
        listener.close()


def test_a_redirect_to_loopback_is_not_followed(owner, loopback_allowed):
    listener = SilentListener()
    try:
        with HttpServer(lambda r: Reply(307, b"", {"Location": listener.url("/admin")})) as server:
            subscription, _ = actions.create_subscription(
                owner.actor, {"url": server.url("/hook"), "event_types": ["account.created"]}
            )
            delivery = actions.send_test_event(owner.actor, subscription)
            run_due_jobs()
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.FAILED
        assert "not followed" in delivery.reason
        assert not listener.was_contacted()
    finally:
        listener.close()


def test_the_allow_list_is_off_by_default_and_lets_a_self_hoster_in(owner, settings):
    settings.TEND_OUTGOING_ALLOW = ""
    with pytest.raises(actions.InvalidInput):
        actions.create_subscription(
            owner.actor, {"url": "http://10.0.0.5/hook", "event_types": ["account.created"]}
        )
    settings.TEND_OUTGOING_ALLOW = "10.0.0.0/8"
    subscription, _ = actions.create_subscription(
        owner.actor, {"url": "http://10.0.0.5/hook", "event_types": ["account.created"]}
    )
    assert subscription.pk
