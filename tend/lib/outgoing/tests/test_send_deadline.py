"""The total deadline holds however the server stalls: trickling, silent, slow to handshake.

Each test gives send() a deadline of DEADLINE seconds and requires the result within one
second more. A per-read timeout (what requests and httpx offer) would wait forever on the
trickling server: every byte arrives well inside any per-read timeout.
"""

import socket
import threading

import pytest

from tend.lib.outgoing import Outcome, send
from tend.lib.outgoing.tests.conftest import LOOPBACK
from tend.lib.outgoing.tests.servers import HttpServer, RawServer, Reply, read_request_head

pytestmark = pytest.mark.slow

DEADLINE = 2.5
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


def within_deadline(result):
    return DEADLINE - 0.05 <= result.elapsed <= DEADLINE + 1


def test_a_server_trickling_one_byte_a_second_is_cut_off_at_the_deadline():
    def trickle(conn, stop):
        read_request_head(conn)
        server.drip(conn, RESPONSE * 10, interval=1.0)

    with RawServer(trickle) as server:
        result = send("POST", server.url(), body=b"x", deadline_seconds=DEADLINE, allow=LOOPBACK)
    assert server.bytes_sent >= 2  # it was trickling, not silent
    assert result.outcome is Outcome.RETRY
    assert result.status_code is None
    assert within_deadline(result), result.elapsed
    assert f"no complete response within {DEADLINE:g} s" in result.reason
    assert "waiting for the response headers" in result.reason


def test_a_body_trickling_after_a_2xx_keeps_the_status_and_stops_at_the_deadline():
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"

    def trickle_body(conn, stop):
        read_request_head(conn)
        conn.sendall(head)
        server.drip(conn, b"z" * 1000, interval=0.5)

    with RawServer(trickle_body) as server:
        result = send("POST", server.url(), body=b"x", deadline_seconds=DEADLINE, allow=LOOPBACK)
    assert result.outcome is Outcome.DELIVERED  # the receiver said 200; the body is only a log
    assert within_deadline(result), result.elapsed
    assert result.body_truncated
    assert 1 <= len(result.response_body) < 1000
    assert "still arriving at the deadline" in result.reason


def test_a_server_slow_to_send_headers_is_cut_off_at_the_deadline():
    def slow(conn, stop):
        read_request_head(conn)
        if not stop.wait(30):
            conn.sendall(RESPONSE)

    with RawServer(slow) as server:
        result = send("POST", server.url(), body=b"x", deadline_seconds=DEADLINE, allow=LOOPBACK)
    assert server.accepted == 1
    assert result.outcome is Outcome.RETRY
    assert within_deadline(result), result.elapsed
    assert "waiting for the response headers" in result.reason


def test_a_server_that_never_reads_the_body_cannot_hold_the_send_past_the_deadline():
    def never_reads(conn, stop):
        stop.wait(30)

    big = b"x" * (64 * 1024 * 1024)  # more than loopback's socket buffers hold
    with RawServer(never_reads) as server:
        result = send("POST", server.url(), body=big, deadline_seconds=DEADLINE, allow=LOOPBACK)
    assert result.outcome is Outcome.RETRY
    assert within_deadline(result), result.elapsed
    assert "sending the request" in result.reason


def test_a_tls_handshake_that_never_completes_is_cut_off_at_the_deadline():
    # A TLS record header announcing 16 KiB of handshake, then its bytes at two a second.
    record = b"\x16\x03\x03\x40\x00" + b"\x02" * 16384

    def slow_handshake(conn, stop):
        conn.recv(4096)  # the ClientHello
        server.drip(conn, record, interval=0.5)

    with RawServer(slow_handshake) as server:
        result = send(
            "POST", server.url(scheme="https"), body=b"x", deadline_seconds=DEADLINE, allow=LOOPBACK
        )
    assert server.bytes_sent >= 2
    assert result.outcome is Outcome.RETRY
    assert within_deadline(result), result.elapsed
    assert "TLS handshake" in result.reason


def test_an_oversized_answer_is_cut_to_the_limit_and_marked_truncated():
    huge = b"A" * (8 * 1024 * 1024)
    with HttpServer(lambda r: Reply(200, huge)) as server:
        result = send("POST", server.url(), body=b"x", max_response_bytes=1000, allow=LOOPBACK)
    assert result.delivered
    assert result.response_body == b"A" * 1000
    assert result.body_truncated
    assert result.elapsed < DEADLINE  # it stopped reading; it did not download 8 MiB first


def test_a_dns_lookup_that_hangs_is_cut_off_at_the_deadline(monkeypatch):
    released = threading.Event()

    def hanging_lookup(*args, **kwargs):
        released.wait(30)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hanging_lookup)
    try:
        result = send("POST", "https://slow-dns.example/", body=b"x", deadline_seconds=DEADLINE)
    finally:
        released.set()
    assert result.outcome is Outcome.RETRY
    assert within_deadline(result), result.elapsed
    assert "resolving the host name" in result.reason
