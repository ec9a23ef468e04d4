"""send() against a real local HTTP server: what it sends, and how each answer is classified."""

import email.utils
import json
import time

import pytest

from tend.lib.outgoing import Outcome, send
from tend.lib.outgoing.tests.conftest import LOOPBACK
from tend.lib.outgoing.tests.servers import HttpServer, RawServer, Reply, read_request_head


def test_a_2xx_answer_is_delivered_with_the_status_body_and_address():
    with HttpServer(lambda r: Reply(201, b'{"received": true}')) as server:
        result = send("POST", server.url("/hooks"), body=b"{}", allow=LOOPBACK)
    assert result.outcome is Outcome.DELIVERED
    assert result.delivered and not result.should_retry
    assert result.status_code == 201
    assert result.reason == "201 Created"
    assert json.loads(result.response_text) == {"received": True}
    assert result.address == "127.0.0.1"
    assert 0 <= result.elapsed < 5


def test_it_sends_the_method_path_query_headers_and_body_exactly():
    with HttpServer() as server:
        send(
            "PUT",
            server.url("/in/hook?source=tend&x=a%20b"),
            body=b'{"a":1}',
            headers={"Content-Type": "application/json", "X-Custom": "yes"},
            allow=LOOPBACK,
        )
    [request] = server.requests
    assert request.method == "PUT"
    assert request.path == "/in/hook?source=tend&x=a%20b"
    assert request.body == b'{"a":1}'
    assert request.headers["host"] == f"127.0.0.1:{server.port}"
    assert request.headers["content-length"] == "7"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-custom"] == "yes"
    assert request.headers["user-agent"].startswith("Tend-Outgoing/")
    assert request.headers["connection"] == "close"


def test_a_chunked_answer_is_read_whole():
    with HttpServer(lambda r: Reply(200, b"accepted, thank you", chunked=True)) as server:
        result = send("POST", server.url(), body=b"x", allow=LOOPBACK)
    assert result.delivered
    assert result.response_body == b"accepted, thank you"
    assert not result.body_truncated


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_answer_is_retried(status):
    with HttpServer(lambda r: Reply(status, b"down")) as server:
        result = send("POST", server.url(), body=b"x", allow=LOOPBACK)
    assert result.outcome is Outcome.RETRY
    assert result.status_code == status
    assert result.reason.startswith(str(status))
    assert result.retry_after is None


def test_a_503_with_retry_after_seconds_says_how_long_to_wait():
    reply = Reply(503, b"", {"Retry-After": "120"})
    with HttpServer(lambda r: reply) as server:
        result = send("POST", server.url(), body=b"x", allow=LOOPBACK)
    assert result.outcome is Outcome.RETRY
    assert result.retry_after == 120
    assert "retry after 120 s" in result.reason


def test_a_429_with_retry_after_as_a_date_is_retried_after_that_date():
    later = email.utils.formatdate(time.time() + 600, usegmt=True)
    with HttpServer(lambda r: Reply(429, b"slow down", {"Retry-After": later})) as server:
        result = send("POST", server.url(), body=b"x", allow=LOOPBACK)
    assert result.outcome is Outcome.RETRY
    assert 590 <= result.retry_after <= 600


def test_a_retry_after_of_a_year_is_capped_at_the_longest_scheduled_wait():
    with HttpServer(lambda r: Reply(429, b"", {"Retry-After": str(365 * 86400)})) as server:
        result = send("POST", server.url(), body=b"x", allow=LOOPBACK)
    assert result.retry_after == 10 * 3600


def test_a_408_request_timeout_is_retried():
    with HttpServer(lambda r: Reply(408, b"")) as server:
        result = send("POST", server.url(), body=b"x", allow=LOOPBACK)
    assert result.outcome is Outcome.RETRY


def test_410_means_gone_so_the_endpoint_can_be_disabled():
    with HttpServer(lambda r: Reply(410, b"unsubscribed")) as server:
        result = send("POST", server.url(), body=b"x", allow=LOOPBACK)
    assert result.outcome is Outcome.GONE
    assert result.status_code == 410
    assert "asked to stop" in result.reason
    assert result.response_text == "unsubscribed"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 413, 422])
def test_other_4xx_answers_are_permanent(status):
    with HttpServer(lambda r: Reply(status, b"no")) as server:
        result = send("POST", server.url(), body=b"x", allow=LOOPBACK)
    assert result.outcome is Outcome.PERMANENT
    assert result.status_code == status
    assert not result.refused


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_never_followed_and_the_reason_says_where_they_pointed(status):
    with HttpServer() as elsewhere:
        to = elsewhere.url("/moved")
        with HttpServer(lambda r: Reply(status, b"", {"Location": to})) as server:
            result = send("POST", server.url(), body=b"x", allow=LOOPBACK)
    assert result.outcome is Outcome.PERMANENT
    assert result.status_code == status
    assert result.location == to
    assert "redirect to " + to in result.reason
    assert "not followed" in result.reason
    assert elsewhere.requests == []  # the redirect target never heard from us


def test_a_closed_port_is_a_connection_failure_to_retry(silent_listener):
    port = silent_listener.port
    silent_listener.close()  # nothing listens there any more
    result = send("POST", f"http://127.0.0.1:{port}/", body=b"x", allow=LOOPBACK)
    assert result.outcome is Outcome.RETRY
    assert "could not connect" in result.reason
    assert "refused" in result.reason.lower()


def test_a_host_name_that_does_not_resolve_is_retried(resolver):
    resolver.answer("nowhere.example", [])
    result = send("POST", "https://nowhere.example/hook", body=b"x")
    assert result.outcome is Outcome.RETRY
    assert "nowhere.example could not be resolved" in result.reason
    assert result.status_code is None


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ({"X-Evil": "a\r\nX-Injected: 1"}, "line break"),
        ({"Bad Name": "x"}, "not a valid header name"),
        ({"X-Name\n": "x"}, "not a valid header name"),  # a trailing newline ends no regex here
        ({"Content-Length": "0"}, "set by Tend"),
        ({"Transfer-Encoding": "chunked"}, "set by Tend"),
        ({"Host": "internal"}, "set by Tend"),
    ],
)
def test_headers_that_could_smuggle_a_second_request_are_not_sent(headers, problem, connects):
    with HttpServer() as server:
        result = send("POST", server.url(), body=b"x", headers=headers, allow=LOOPBACK)
    assert result.outcome is Outcome.PERMANENT
    assert problem in result.reason
    assert server.requests == [] and connects == []


def test_wrong_argument_types_are_programming_errors():
    with pytest.raises(TypeError):
        send("POST", "https://example.com/", body="text, not bytes")
    with pytest.raises(ValueError):
        send("CONNECT", "https://example.com/")


def test_an_informational_103_is_skipped_and_the_final_answer_counts():
    def early_hints(conn, stop):
        read_request_head(conn)
        conn.sendall(
            b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
            b"HTTP/1.1 202 Accepted\r\nContent-Length: 6\r\nConnection: close\r\n\r\nqueued"
        )

    with RawServer(early_hints) as server:
        result = send("POST", server.url(), body=b"x", allow=LOOPBACK)
    assert result.outcome is Outcome.DELIVERED
    assert result.status_code == 202
    assert result.response_body == b"queued"


def test_a_server_closing_without_answering_is_retried():
    def hang_up(conn, stop):
        read_request_head(conn)

    with RawServer(hang_up) as server:
        result = send("POST", server.url(), body=b"x", allow=LOOPBACK)
    assert result.outcome is Outcome.RETRY
    assert "closed the connection without answering" in result.reason


def test_garbage_instead_of_http_is_retried_with_the_reason():
    def garbage(conn, stop):
        read_request_head(conn)
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    with RawServer(garbage) as server:
        result = send("POST", server.url(), body=b"x", allow=LOOPBACK)
    assert result.outcome is Outcome.RETRY
    assert "could not be read" in result.reason


def test_a_redirect_to_the_metadata_service_is_reported_and_never_contacted(connects):
    metadata = "http://169.254.169.254/latest/meta-data/iam/"
    with HttpServer(lambda r: Reply(302, b"", {"Location": metadata})) as server:
        result = send("POST", server.url(), body=b"x", allow=LOOPBACK)
    assert result.outcome is Outcome.PERMANENT
    assert result.location == metadata
    assert connects == [("127.0.0.1", server.port)]


@pytest.mark.parametrize(
    "kwargs", [{"deadline_seconds": 0}, {"deadline_seconds": -1}, {"max_response_bytes": -1}]
)
def test_impossible_limits_are_programming_errors(kwargs):
    with pytest.raises(ValueError):
        send("POST", "https://example.com/", **kwargs)
