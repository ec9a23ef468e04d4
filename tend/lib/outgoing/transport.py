"""``send``: one HTTP request with a hard total deadline, the SSRF rules and no redirects.

Why not ``requests`` or ``httpx``: their timeouts bound each socket operation, not the whole
exchange, so a server that trickles one byte a second keeps a worker forever. Here every
blocking step is given only the time left:

1. resolve the host once, in a helper thread we stop waiting for at the deadline
   (``getaddrinfo`` takes no timeout);
2. check every address against the rules (``targets``) before any socket is opened;
3. connect to a checked address — never to the name, so nothing resolves it again;
4. TLS handshake with SNI and certificate checks for the host *name*;
5. send the request, each write given only the time left;
6. read the status, headers and up to ``max_response_bytes`` of the body through a reader
   that sets the socket timeout to the time left before each ``recv``.

``http.client`` parses the response (status line, header limits, chunked bodies); it never
sees the socket itself, only that deadline-bound reader. Proxy variables (``HTTP_PROXY``…)
are ignored on purpose: a proxy would resolve and connect on our behalf, past the checks.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from tend.lib.outgoing.results import (
    Outcome,
    Result,
    classify_status,
    describe_response,
    parse_retry_after,
)
from tend.lib.outgoing.targets import (
    ALLOW_SETTING,
    AllowList,
    IPAddress,
    Refused,
    Target,
    allow_list_from_settings,
    parse_url,
    refusal_for_address,
)

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
DEFAULT_DEADLINE_SECONDS = 15.0
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "Tend-Outgoing/1.0"

# Framing headers are ours to write: a caller's Content-Length or Transfer-Encoding could
# desynchronise the receiver (request smuggling), a Host header would contradict the URL.
_FRAMING_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_MAX_INFORMATIONAL = 5  # 1xx answers tolerated before the real one
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

# Resolution runs here so that the caller can stop waiting at its deadline. A lookup that
# hangs holds one thread until the resolver gives up; with all of them busy, further lookups
# queue and time out as they should.
_resolver_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="tend-outgoing-dns")
_default_tls_context: ssl.SSLContext | None = None


class _Failed(Exception):
    """A failure worth another try later (DNS, connection); ``reason`` says what happened."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _Clock:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.started = time.monotonic()
        self.ends = self.started + seconds

    def remaining(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline reached")
        return left

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def send(
    method: str,
    url: str,
    *,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    allow: AllowList | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> Result:
    """Send one request and classify what happened; never raises for network trouble.

    ``allow`` defaults to the configured ``TEND_OUTGOING_ALLOW``; ``ssl_context`` lets a
    self-hoster (or a test) trust a private certificate authority. Problems with the URL or
    headers come back as a ``permanent`` result with the reason, because they come from
    configuration a person can fix; wrong argument types raise.
    """
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError("body must be bytes")
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}")
    if deadline_seconds <= 0 or max_response_bytes < 0:
        raise ValueError("deadline_seconds must be positive and max_response_bytes not negative")
    clock = _Clock(deadline_seconds)

    def result(outcome: Outcome, reason: str, **fields) -> Result:
        return Result(outcome=outcome, reason=reason, elapsed=clock.elapsed(), **fields)

    try:
        target = parse_url(url)
    except Refused as refusal:
        return result(
            Outcome.PERMANENT, f"refused before connecting: {refusal.reason}", refused=True
        )
    try:
        head = _request_head(method, target, headers or {}, len(body))
    except ValueError as problem:
        return result(Outcome.PERMANENT, f"request not sent: {problem}")
    if allow is None:
        allow = allow_list_from_settings()

    phase = "resolving the host name"
    sock: socket.socket | None = None
    address: IPAddress | None = None
    try:
        addresses = _resolve(target, clock)
        _check_addresses(target, addresses, allow)
        phase = "connecting"
        sock, address = _connect(target, addresses, clock)
        if target.scheme == "https":
            phase = "in the TLS handshake"
            sock = _start_tls(sock, target, clock, ssl_context)
        phase = "sending the request"
        send_error = _send_request(sock, head, bytes(body), clock)
        phase = "waiting for the response headers"
        try:
            response = _read_response_head(_DeadlineSocket(sock, clock), method)
        except (http.client.HTTPException, OSError):
            if send_error is not None:  # no answer either: the send failure is the story
                raise send_error from None
            raise
        phase = "reading the response body"
        kept, truncated, note = _read_body(response, clock, max_response_bytes)
    except Refused as refusal:
        return result(
            Outcome.PERMANENT, f"refused before connecting: {refusal.reason}", refused=True
        )
    except _Failed as failure:
        return result(Outcome.RETRY, failure.reason, address=_text(address))
    except TimeoutError:
        return result(
            Outcome.RETRY,
            f"no complete response within {deadline_seconds:g} s "
            f"(the deadline ran out while {phase})",
            address=_text(address),
        )
    except ssl.SSLCertVerificationError as error:
        why = error.verify_message or str(error)
        return result(
            Outcome.RETRY,
            f"the TLS certificate of {target.host} was not accepted: {why}",
            address=_text(address),
        )
    except ssl.SSLError as error:
        if phase == "in the TLS handshake":
            reason = f"the TLS handshake with {target.host} failed: {error.reason or error}"
        else:
            reason = f"TLS failed while {phase}: {error.reason or error}"
        return result(Outcome.RETRY, reason, address=_text(address))
    except http.client.RemoteDisconnected:
        return result(
            Outcome.RETRY,
            "the server closed the connection without answering",
            address=_text(address),
        )
    except http.client.HTTPException as error:
        return result(
            Outcome.RETRY,
            f"the response could not be read ({type(error).__name__}: {error})",
            address=_text(address),
        )
    except OSError as error:
        return result(
            Outcome.RETRY,
            f"the connection failed while {phase}: {error.strerror or error}",
            address=_text(address),
        )
    finally:
        if sock is not None:
            sock.close()

    status = response.status
    location = response.getheader("Location")
    retry_after = parse_retry_after(response.getheader("Retry-After"))
    outcome = classify_status(status)
    reason = describe_response(status, retry_after=retry_after, location=location)
    if note:
        reason = f"{reason} ({note})"
    return result(
        outcome,
        reason,
        status_code=status,
        response_body=kept,
        body_truncated=truncated,
        retry_after=retry_after if outcome is Outcome.RETRY else None,
        location=location if 300 <= status <= 399 else None,
        address=_text(address),
    )


def check_url(url: str, *, allow: AllowList | None = None, resolve: bool = True) -> str | None:
    """Why ``url`` would be refused, or None: for forms that take a webhook or Slack URL.

    With ``resolve`` the host is looked up and its addresses checked too, as ``send`` would.
    A name that does not resolve *now* is not refused here (DNS may be fixed later);
    ``send`` reports it per attempt.
    """
    try:
        target = parse_url(url)
        if allow is None:
            allow = allow_list_from_settings()
        if target.ip is not None or resolve:
            addresses = _resolve(target, _Clock(DEFAULT_DEADLINE_SECONDS))
            _check_addresses(target, addresses, allow)
    except Refused as refusal:
        return refusal.reason
    except (_Failed, TimeoutError):
        return None
    return None


def _text(address: IPAddress | None) -> str | None:
    return str(address) if address is not None else None


def _request_head(method: str, target: Target, headers: Mapping[str, str], length: int) -> bytes:
    lines = [f"{method} {target.request_target} HTTP/1.1", f"Host: {target.host_header}"]
    names = set()
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid header name")
        if name.lower() in _FRAMING_HEADERS:
            raise ValueError(f"the {name} header is set by Tend and cannot be given")
        value = str(value)
        if any(ch in value for ch in "\r\n\0"):
            raise ValueError(f"the {name} header's value contains a line break or NUL")
        names.add(name.lower())
        lines.append(f"{name}: {value}")
    if "user-agent" not in names:
        lines.append(f"User-Agent: {USER_AGENT}")
    if length or method in {"POST", "PUT", "PATCH"}:
        lines.append(f"Content-Length: {length}")
    lines.append("Connection: close")
    try:
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError("header values must be Latin-1 text (encode anything else)") from None


def _resolve(target: Target, clock: _Clock) -> list[tuple[int, tuple, IPAddress]]:
    """Every (family, socket address, IP) for the target, from exactly one lookup."""
    if target.ip is not None:
        if isinstance(target.ip, ipaddress.IPv6Address):
            return [(socket.AF_INET6, (str(target.ip), target.port, 0, 0), target.ip)]
        return [(socket.AF_INET, (str(target.ip), target.port), target.ip)]
    name = target.host.rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        # RFC 6761: these names are loopback whatever a resolver (or /etc/hosts) says.
        return [
            (socket.AF_INET, ("127.0.0.1", target.port), ipaddress.ip_address("127.0.0.1")),
            (socket.AF_INET6, ("::1", target.port, 0, 0), ipaddress.ip_address("::1")),
        ]
    future = _resolver_pool.submit(_lookup, target.host, target.port)
    try:
        infos = future.result(timeout=clock.remaining())
    except socket.gaierror as error:
        raise _Failed(
            f"the host name {target.host} could not be resolved ({error.strerror})"
        ) from None
    except UnicodeError:
        raise Refused(f"the host name {target.host} cannot be looked up") from None
    found: list[tuple[int, tuple, IPAddress]] = []
    seen = set()
    for family, _type, _proto, _name, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if ip in seen:
            continue
        seen.add(ip)
        found.append((family, sockaddr, ip))
    if not found:
        raise _Failed(f"the host name {target.host} resolved to no IPv4 or IPv6 address")
    return found


def _lookup(host: str, port: int):
    # Looked up at call time so that tests can stand a fake resolver in for the system's.
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)


def _check_addresses(target: Target, addresses, allow: AllowList) -> None:
    """Refuse the whole target if any address it resolved to is off limits.

    One bad address is enough: a name that answers with both a public and a private address
    is either misconfigured or an attack, and we would not control which one we reach.
    """
    if allow.allows_host(target.host):
        return
    for _family, _sockaddr, ip in addresses:
        if allow.allows_address(ip):
            continue
        why = refusal_for_address(ip)
        if why is None:
            continue
        if target.ip is not None:
            subject = f"{ip} is {why}"
        else:
            subject = f"{target.host} resolves to {ip}, {why}"
        raise Refused(f"{subject} (a self-hosted install can allow it with {ALLOW_SETTING})")


def _connect(target: Target, addresses, clock: _Clock) -> tuple[socket.socket, IPAddress]:
    last_error: OSError | None = None
    for index, (family, sockaddr, ip) in enumerate(addresses):
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            # Share what is left between the addresses still to try.
            sock.settimeout(clock.remaining() / (len(addresses) - index))
            sock.connect(sockaddr)
            return sock, ip
        except OSError as error:
            sock.close()
            last_error = error
            clock.remaining()  # past the deadline: report the timeout, not this address
    if isinstance(last_error, TimeoutError):
        raise last_error
    what = last_error.strerror if last_error is not None else "no address"
    tried = ", ".join(str(ip) for _f, _s, ip in addresses)
    raise _Failed(f"could not connect to {target.host} port {target.port} ({tried}): {what}")


def _start_tls(
    sock: socket.socket, target: Target, clock: _Clock, context: ssl.SSLContext | None
) -> ssl.SSLSocket:
    # The handshake is bounded as a whole by the timeout set here: CPython's do_handshake
    # counts down from it across every read and write of the handshake.
    sock.settimeout(clock.remaining())
    context = context or _tls_context()
    try:
        return context.wrap_socket(sock, server_hostname=target.host)
    except BaseException:
        sock.close()
        raise


def _tls_context() -> ssl.SSLContext:
    global _default_tls_context
    if _default_tls_context is None:
        _default_tls_context = ssl.create_default_context()
    return _default_tls_context


def _send_request(sock: socket.socket, head: bytes, body: bytes, clock: _Clock) -> OSError | None:
    """Send head and body, each write given only the time left; return (not raise) a reset.

    Not ``sendall``: on a TLS socket it is a Python loop whose every write gets the full
    timeout again. A receiver may answer early — 413 for a body too large — and close
    before reading it all; its answer is worth more than our send error, so the caller
    still reads.
    """
    view = memoryview(head + body)
    try:
        while view:
            sock.settimeout(clock.remaining())
            sent = sock.send(view)
            view = view[sent:]
    except (BrokenPipeError, ConnectionResetError) as error:
        return error
    return None


def _read_response_head(source: _DeadlineSocket, method: str) -> http.client.HTTPResponse:
    """Status and headers of the final response, past any informational (1xx) ones.

    ``http.client`` skips ``100 Continue`` itself but returns ``103 Early Hints`` as if it
    were the answer; the real one follows on the same stream, so read on from there.
    """
    response = http.client.HTTPResponse(source, method=method)
    response.begin()
    for _ in range(_MAX_INFORMATIONAL):
        if not 100 <= response.status <= 199:
            break
        following = http.client.HTTPResponse(source, method=method)
        # What the first one buffered belongs to the next; take the stream from it so that
        # closing the first (when it is collected) leaves the stream open.
        following.fp, response.fp = response.fp, None
        following.begin()
        response = following
    return response


class _DeadlineReader(io.RawIOBase):
    """Socket reads that each wait only for the time left before the deadline."""

    def __init__(self, sock: socket.socket, clock: _Clock):
        self._sock = sock
        self._clock = clock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self._sock.settimeout(self._clock.remaining())
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """What ``http.client.HTTPResponse`` reads from instead of the socket."""

    def __init__(self, sock: socket.socket, clock: _Clock):
        self._sock = sock
        self._clock = clock

    def makefile(self, mode: str, *args, **kwargs) -> io.BufferedReader:
        # A reader of its own each time: closing one (as a discarded response does when it is
        # collected) must not close the stream another response is reading.
        return io.BufferedReader(_DeadlineReader(self._sock, self._clock))


def _read_body(response: http.client.HTTPResponse, clock: _Clock, limit: int):
    """Up to ``limit`` bytes of the body, whether more was cut off, and a note if it broke.

    The status is already known; a body cut off by the deadline or a dropped connection
    does not change what the receiver told us, so it is noted rather than failed.
    """
    chunks: list[bytes] = []
    size = 0
    note = ""
    try:
        while size <= limit:
            # read1: one socket read at a time, so what arrived before a timeout is kept.
            chunk = response.read1(min(64 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except TimeoutError:
        note = "the response body was still arriving at the deadline; kept what had arrived"
    except (http.client.HTTPException, OSError):
        note = "the connection closed before the response body was complete"
    data = b"".join(chunks)
    truncated = len(data) > limit or bool(note)
    return data[:limit], truncated, note
