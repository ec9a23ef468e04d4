"""A real HTTP receiver on loopback for the delivery tests: each path behaves differently.

* ``/healthy/…`` answers 204, except about one request in ten (seeded) gets a 500.
* ``/trickle/…`` writes its answer a few bytes at a time; the first attempt of every fourth
  message trickles for longer than the attempt's deadline, later ones finish within it.
* ``/redirect/…`` answers 302 to ``/redirect-target`` on this same loopback server.
* ``/gone/…`` answers 410 Gone.

Every request is recorded (path, lower-cased headers, body) with the status it got (0 when
the client gave up before the answer was complete).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self, *, fail_rate: float = 0.1, seed: int = 8, slow_seconds: float = 1.0):
        self.log: list[tuple[Request, int]] = []  # every request and the status it got
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.fail_rate = fail_rate
        self.slow_seconds = slow_seconds
        self.trickled: dict[str, int] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # Closing waits for every handler thread, so the log is complete once the receiver
        # is closed: a client can read the last byte of an answer before the handler has
        # logged it (seen under load as an "accepted" request missing from the log).
        self.server.daemon_threads = False
        self.server.block_on_close = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def received(self, prefix: str) -> list[Request]:
        with self.lock:
            return [r for r, _ in self.log if r.path.startswith(prefix)]

    def accepted(self, prefix: str) -> list[Request]:
        """Requests under ``prefix`` that were answered with a 2xx."""
        with self.lock:
            return [r for r, code in self.log if r.path.startswith(prefix) and 200 <= code < 300]

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                request = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with owner.lock:
                    fail = owner.rng.random() < owner.fail_rate
                status = owner._answer(self, request, fail)
                with owner.lock:
                    owner.log.append((request, status))

        return Handler

    def _answer(self, handler, request: Request, fail: bool) -> int:
        path = request.path
        if path.startswith("/healthy"):
            status = 500 if fail else 204
            self._reply(handler, status)
            return status
        if path.startswith("/trickle"):
            message_id = request.headers.get("webhook-id", "")
            with self.lock:
                seen = self.trickled.get(message_id, 0)
                self.trickled[message_id] = seen + 1
                slow = seen == 0 and len(self.trickled) % 4 == 0
            chunks = [
                b"HTTP/1.1 200 OK\r\n",
                b"Content-Length: 2\r\n",
                b"Connection: close\r\n",
                b"\r\n",
                b"ok",
            ]
            pause = self.slow_seconds / len(chunks) if slow else 0.01
            try:
                for chunk in chunks:
                    handler.wfile.write(chunk)
                    handler.wfile.flush()
                    time.sleep(pause)
            except OSError:
                return 0  # the client gave up at its deadline
            handler.close_connection = True
            return 0 if slow else 200
        if path.startswith("/redirect-target"):
            self._reply(handler, 204)
            return 204
        if path.startswith("/redirect"):
            self._reply(handler, 302, {"Location": self.url("/redirect-target")})
            return 302
        if path.startswith("/gone"):
            self._reply(handler, 410)
            return 410
        self._reply(handler, 404)
        return 404

    @staticmethod
    def _reply(handler, status: int, headers: dict | None = None) -> None:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", "0")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
