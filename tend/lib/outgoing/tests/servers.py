"""Real servers on loopback for the outgoing-HTTP tests: well-behaved, slow and silent ones."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False


class HttpServer:
    """An HTTP/1.1 server in a thread; ``respond(request)`` decides each reply.

    Records every request it was sent and, for TLS, the SNI name each client asked for.
    """

    def __init__(
        self,
        respond: Callable[[Received], Reply] | None = None,
        *,
        host: str = "127.0.0.1",
        tls: ssl.SSLContext | None = None,
    ):
        self.respond = respond or (lambda request: Reply())
        self.requests: list[Received] = []
        self.server_names: list[str | None] = []
        self.host = host
        if tls is not None:
            tls.sni_callback = lambda _obj, name, _ctx: self.server_names.append(name)
        self._server = _Server((host, 0), _handler(self), tls=tls, ipv6=":" in host)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/", *, host: str | None = None, scheme: str = "http") -> str:
        name = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"{scheme}://{name}:{self.port}{path}"

    def __enter__(self) -> HttpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, *, tls, ipv6):
        self.address_family = socket.AF_INET6 if ipv6 else socket.AF_INET
        self.tls = tls
        super().__init__(address, handler)

    def server_bind(self):
        # HTTPServer.server_bind looks up our own name (getfqdn); nothing here needs it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "localhost", self.server_address[1]

    def finish_request(self, request, client_address):
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # the client refused our certificate: nothing to answer
        super().finish_request(request, client_address)


def _handler(owner: HttpServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep test output readable
            pass

        def handle_one_request_body(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Received(
                method=self.command,
                path=self.path,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
            )
            owner.requests.append(request)
            reply = owner.respond(request)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(reply.body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if reply.chunked:
                for start in range(0, len(reply.body), 7):
                    piece = reply.body[start : start + 7]
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(reply.body)
            self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one_request_body

    return Handler


class RawServer:
    """A TCP listener whose connections go to ``handle(conn, stop)``, each in a thread.

    For servers that misbehave below HTTP: trickling, never answering, slow handshakes.
    ``stop`` is set when the test ends so that no handler outlives it.
    """

    def __init__(
        self, handle: Callable[[socket.socket, threading.Event], None], *, host="127.0.0.1"
    ):
        self.handle = handle
        self.stop = threading.Event()
        self.accepted = 0
        self.bytes_sent = 0
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.bind((host, 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []

    def url(self, path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> RawServer:
        thread = threading.Thread(target=self._accept_loop, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def _accept_loop(self):
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket):
        # OSError: the client gave up, which is what these servers are for.
        with conn, contextlib.suppress(OSError):
            self.handle(conn, self.stop)

    def drip(self, conn: socket.socket, data: bytes, interval: float) -> None:
        """Send ``data`` one byte at a time, ``interval`` seconds apart, until told to stop."""
        for byte in data:
            if self.stop.wait(interval):
                return
            conn.sendall(bytes([byte]))
            self.bytes_sent += 1


def read_request_head(conn: socket.socket, timeout: float = 5.0) -> bytes:
    """Read up to the blank line that ends a request's headers."""
    conn.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in data and time.monotonic() < deadline:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


class SilentListener:
    """A listening socket nobody accepts on: it proves whether anyone tried to connect.

    A connect to loopback completes into the listen backlog before ``connect`` returns, so a
    non-blocking ``accept`` right afterwards sees any connection that was made.
    """

    def __init__(self, host: str = "127.0.0.1"):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.bind((host, 0))
        self._sock.listen(8)
        self._sock.setblocking(False)
        self.port = self._sock.getsockname()[1]

    def url(self, path: str = "/") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def was_contacted(self) -> bool:
        try:
            conn, _ = self._sock.accept()
        except BlockingIOError:
            return False
        conn.close()
        return True

    def close(self) -> None:
        self._sock.close()
