"""Running Tend processes against the test database, for the tests that kill them."""

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection


def database_url() -> str:
    """The URL of the test database this test run uses (its name differs from settings)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = s.get("HOST") or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{quote(s['NAME'], safe='')}"


def process_env(**extra) -> dict:
    env = os.environ.copy()
    env.update(DATABASE_URL=database_url(), LOG_LEVEL="INFO", PYTHONUNBUFFERED="1", **extra)
    return env


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent():
    """Runs in the child before exec: the kernel SIGKILLs it when the test process dies.

    A test that is interrupted (Ctrl-C, a CI timeout, xdist killing a worker) never reaches
    its ``finally``; without this its worker kept running, orphaned, against a test database
    that no longer existed.
    """
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def start(args: list[str], log: Path, **env) -> subprocess.Popen:
    """Start ``python -m <args>`` in the repository, output appended to ``log``."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=settings.BASE_DIR,
            env=process_env(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )


def start_worker(log: Path, *extra: str) -> subprocess.Popen:
    return start(["tend.jobs.tests.worker_process", "--poll", "0.05", *extra], log)


def wait_for(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
