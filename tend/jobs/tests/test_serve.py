"""``tend serve`` runs web, worker and scheduler as one process tree and stops as one."""

import os
import signal
import socket
import subprocess
import urllib.request

import pytest

from tend.jobs.models import ScheduleEntry
from tend.jobs.tests.processes import start, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> dict[str, int]:
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        child, _, args = line.strip().partition(" ")
        words = args.split()
        name = "gunicorn" if "gunicorn" in words else words[-1]
        found[name] = int(child)
    return found


def all_three(children: dict) -> dict | None:
    return children if len(children) == 3 else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def serve(tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    process = start(["tend.cli", "serve"], log, PORT=str(port), HOST="127.0.0.1", WEB_CONCURRENCY="1")
    try:
        # Starting means importing every app twice (the parent, then gunicorn's worker): a few
        # seconds alone, but half a minute was seen on a machine running two suites at once.
        wait_for(lambda: healthy(port), timeout=90, interval=0.2, what=f"the web server (log {log})")
        children = wait_for(lambda: all_three(children_of(process.pid)), timeout=10, what="three children")
        yield process, children, log, port
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_prints_its_address_and_runs_web_worker_and_scheduler(serve):
    process, children, log, port = serve
    assert f"Tend is serving http://127.0.0.1:{port}/" in log.read_text()
    assert set(children) == {"gunicorn", "worker", "scheduler"}
    wait_for(lambda: ScheduleEntry.objects.filter(name="purge-finished-jobs").exists(), timeout=15,
             what="the scheduler to register its entries")


def test_sigterm_stops_every_child_and_exits_cleanly(serve):
    process, children, log, port = serve
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=40) == 0
    assert not any(alive(pid) for pid in children.values())
    assert not healthy(port)


def test_when_a_child_dies_serve_stops_the_others_and_fails(serve):
    process, children, log, port = serve
    os.kill(children["worker"], signal.SIGKILL)
    assert process.wait(timeout=40) != 0
    assert not alive(children["gunicorn"]) and not alive(children["scheduler"])
    assert "the worker process exited" in log.read_text()
