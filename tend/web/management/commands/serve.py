"""``tend serve``: web server, one job worker and the scheduler in one process tree.

The children are ``tend web``, ``tend worker`` and ``tend scheduler``. SIGINT or SIGTERM
is passed on to them and ``serve`` waits for them to finish; if any child exits on its own,
the others are stopped and ``serve`` exits non-zero, so a supervisor notices.
"""

import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tend.web.management.commands.web import bind_address

CHILDREN = ("web", "worker", "scheduler")
STOP_GRACE_SECONDS = 30
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """Linux: a child gets SIGTERM if ``serve`` itself is killed, so nothing is orphaned."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class Command(BaseCommand):
    help = "Run the web server, a job worker and the scheduler together (the embedded default)."

    def handle(self, *args, **options):
        self._refuse_unmigrated_database()
        host, port = bind_address()
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 (display only)
        children = {
            name: subprocess.Popen([sys.executable, "-m", "tend.cli", name], preexec_fn=_die_with_parent)
            for name in CHILDREN
        }
        self.stdout.write(f"Tend is serving http://{shown}:{port}/ (web, worker and scheduler; Ctrl-C stops)")
        self.stdout.flush()

        received = []
        signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
        signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))

        died = None
        while not received and died is None:
            for name, child in children.items():
                if child.poll() is not None:
                    died = name
                    break
            else:
                time.sleep(0.2)
        self._stop(children)
        if died is not None:
            code = children[died].returncode
            raise CommandError(f"the {died} process exited (code {code}); stopped the others", returncode=1)
        self.stdout.write("Tend stopped")

    def _stop(self, children):
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in children.values():
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def _refuse_unmigrated_database(self):
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError("The database needs migrating first: run `tend manage migrate`.")
        connection.close()
