"""``tend web``: the web server (gunicorn) on ``$HOST:$PORT`` with ``$WEB_CONCURRENCY`` workers
of ``$WEB_THREADS`` threads each.

Threaded workers (``gthread``), not gunicorn's default sync ones: a sync worker busy with one
request stops answering the arbiter's heartbeat and is killed after 30 s, which would cut
off a streamed export of a few hundred thousand accounts midway. A threaded worker's main
loop keeps beating while its threads serve, so a long download runs to its end, and a slow
one holds one thread rather than a whole process.

The command replaces itself with gunicorn, so signals from a process manager reach
gunicorn directly (SIGTERM: graceful shutdown).
"""

import os
import sys

from django.core.management.base import BaseCommand


def bind_address() -> tuple[str, str]:
    return os.environ.get("HOST") or "127.0.0.1", os.environ.get("PORT") or "8000"


def gunicorn_argv() -> list[str]:
    host, port = bind_address()
    argv = [
        sys.executable, "-m", "gunicorn", "tend.wsgi:application",
        "--bind", f"{host}:{port}",
        "--workers", os.environ.get("WEB_CONCURRENCY") or "2",
        "--worker-class", "gthread",
        "--threads", os.environ.get("WEB_THREADS") or "4",
        "--access-logfile", "-",
        "--graceful-timeout", "20",
        # Filtered lists keep their condition in the address (/accounts/?where=<JSON>, to
        # share them); gunicorn's default request line of 4 KB cuts that at ~35 clauses.
        "--limit-request-line", "8190",
    ]
    from gunicorn import version_info

    if version_info >= (25, 1):
        # Its control socket lives at one path per user: two Tends on one machine would clash.
        argv.append("--no-control-socket")
    return argv


class Command(BaseCommand):
    help = (
        "Run the web server (gunicorn): HOST (127.0.0.1), PORT (8000), WEB_CONCURRENCY (2), "
        "WEB_THREADS (4)."
    )

    def handle(self, *args, **options):
        argv = gunicorn_argv()
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(argv[0], argv)  # noqa: S606 (fixed argv, no shell)
