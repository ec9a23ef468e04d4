"""HTTPS goes to the checked address but is verified for the host *name*: SNI, Host, certificate."""

import ssl

import pytest
import trustme

from tend.lib.outgoing import AllowList, Outcome, send
from tend.lib.outgoing.tests.servers import HttpServer, RawServer

ALLOW = AllowList.parse("127.0.0.1/32")


@pytest.fixture(scope="module")
def authority():
    return trustme.CA()


@pytest.fixture
def tls_server(authority):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("hooks.test").configure_cert(context)
    with HttpServer(tls=context) as server:
        yield server


@pytest.fixture
def trusting(authority):
    """A client context trusting the test authority, as a self-hoster's private CA would be."""
    context = ssl.create_default_context()
    authority.configure_trust(context)
    return context


def test_https_sends_the_host_name_in_sni_and_host_while_connecting_to_the_checked_address(
    tls_server, trusting, resolver, connects
):
    resolver.answer("hooks.test", ["127.0.0.1"])
    result = send(
        "POST",
        tls_server.url("/in", host="hooks.test", scheme="https"),
        body=b"{}",
        allow=ALLOW,
        ssl_context=trusting,
    )
    assert result.delivered, result.reason
    assert tls_server.server_names == ["hooks.test"]
    assert tls_server.requests[0].headers["host"] == f"hooks.test:{tls_server.port}"
    assert connects == [("127.0.0.1", tls_server.port)]
    assert resolver.calls == ["hooks.test"]


def test_a_certificate_for_another_name_is_not_accepted(tls_server, trusting, resolver):
    resolver.answer("other.test", ["127.0.0.1"])
    result = send(
        "POST",
        tls_server.url(host="other.test", scheme="https"),
        body=b"{}",
        allow=ALLOW,
        ssl_context=trusting,
    )
    assert result.outcome is Outcome.RETRY
    assert "TLS certificate of other.test was not accepted" in result.reason
    assert "mismatch" in result.reason or "match" in result.reason
    assert tls_server.requests == []


def test_a_certificate_from_an_unknown_authority_is_not_accepted(tls_server, resolver):
    resolver.answer("hooks.test", ["127.0.0.1"])
    result = send(
        "POST", tls_server.url(host="hooks.test", scheme="https"), body=b"{}", allow=ALLOW
    )
    assert result.outcome is Outcome.RETRY
    assert "not accepted" in result.reason
    assert "certificate" in result.reason
    assert tls_server.requests == []


def test_plain_http_to_a_tls_port_is_a_failure_to_retry_not_a_crash(tls_server):
    result = send("POST", tls_server.url(), body=b"{}", allow=ALLOW, deadline_seconds=3)
    assert result.outcome is Outcome.RETRY
    assert result.status_code is None


def test_a_tls_receiver_reading_slowly_cannot_stretch_the_send_past_the_deadline(
    authority, trusting
):
    """Each TLS write waits less than any per-call timeout, but all of them together would
    take minutes: only a deadline re-checked before every write stops it."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)

    def slow_reader(conn, stop):
        tls = context.wrap_socket(conn, server_side=True)
        while not stop.wait(0.25):
            if not tls.recv(64 * 1024):
                return

    body = b"x" * (48 * 1024 * 1024)
    with RawServer(slow_reader) as server:
        result = send(
            "POST",
            server.url(scheme="https"),
            body=body,
            deadline_seconds=2.5,
            allow=ALLOW,
            ssl_context=trusting,
        )
    assert result.outcome is Outcome.RETRY
    assert 2.45 <= result.elapsed <= 3.5, result.elapsed
    assert "sending the request" in result.reason
