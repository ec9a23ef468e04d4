"""The web server killed with SIGKILL while a client streams batches: an acknowledgement means
committed, so every acknowledged event is stored, and a retried batch is stored once."""

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import orjson
import pytest
from django.conf import settings

from tend.jobs.tests.processes import die_with_parent, process_env, wait_for
from tend.test import make_token
from tend.usage.models import UsageEvent

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BATCHES = 160
PER_BATCH = 250
KILLS = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``tend web`` (gunicorn, two workers) in its own process group, so one SIGKILL takes
    the master and its workers down together, mid-request or not."""

    def __init__(self, port: int, log):
        self.port, self.log, self.process = port, log, None

    def start(self):
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tend.cli", "web"],
                cwd=settings.BASE_DIR,
                env=process_env(PORT=str(self.port), HOST="127.0.0.1", WEB_CONCURRENCY="2"),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        wait_for(self.healthy, timeout=30, interval=0.1, what=f"tend web (log {self.log})")

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/healthz", timeout=2
            ) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False


def send_until_acknowledged(port: int, token: str, batch: list[dict], stop: threading.Event) -> int:
    """POST a batch, retrying (same message ids) until a 200 comes back; return the tries."""
    request_body = orjson.dumps(batch)
    tries = 0
    while not stop.is_set():
        tries += 1
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"http://127.0.0.1:{port}/api/v1/events",
            data=request_body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                if response.status == 200:
                    report = orjson.loads(response.read())
                    assert report["stored"] + report["duplicates"] == len(batch), report
                    return tries
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.05)
    raise AssertionError("the batch was never acknowledged")


def test_every_acknowledged_event_survives_sigkill_and_none_is_stored_twice(workspace, tmp_path):
    token = make_token(workspace, ("ingest",))
    server = Server(free_port(), tmp_path / "web.log")
    server.start()
    acknowledged: list[int] = []
    retried = []
    stop = threading.Event()
    failure: list[BaseException] = []

    def stream():
        try:
            for b in range(BATCHES):
                batch = [
                    {
                        "account_external_id": f"acct-{(b * PER_BATCH + i) % 37}",
                        "user_external_id": f"user-{i % 11}",
                        "activity": "Viewed report",
                        "message_id": f"batch-{b}-{i}",
                    }
                    for i in range(PER_BATCH)
                ]
                tries = send_until_acknowledged(server.port, token, batch, stop)
                acknowledged.append(b)
                if tries > 1:
                    retried.append(b)
        except BaseException as exc:  # reported by the main thread
            failure.append(exc)

    client = threading.Thread(target=stream)
    client.start()
    rng = random.Random(3)
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.1, 0.6))
            if not client.is_alive():
                break
            server.kill()
            time.sleep(rng.uniform(0, 0.3))
            server.start()
        client.join(timeout=120)
    finally:
        stop.set()
        client.join(timeout=15)
        if server.process.poll() is None:
            server.kill()

    assert not failure, failure
    assert acknowledged == list(range(BATCHES))
    stored = list(
        UsageEvent.objects.filter(workspace=workspace).values_list("message_id", flat=True)
    )
    assert len(stored) == BATCHES * PER_BATCH
    assert len(set(stored)) == len(stored), "an event was stored twice"
    assert len(retried) >= 2, (
        "requests were hardly interrupted: the test proved little; kill sooner"
    )
