"""``tend worker``: claim and run background jobs until stopped.

SIGTERM or SIGINT: finish the current job, then exit. A second signal exits at once; the
job's lease expires and another worker runs it again (job bodies are idempotent).
"""

import os
import signal

from django.core.management.base import BaseCommand

from tend.jobs.runner import Worker


class Command(BaseCommand):
    help = "Run background jobs (any number of workers may run at once)."

    def add_arguments(self, parser):
        parser.add_argument("--poll", type=float, default=1.0, help="Seconds between looks at an empty queue.")
        parser.add_argument("--burst", action="store_true", help="Exit when no job is due instead of waiting.")

    def handle(self, *args, poll, burst, **options):
        worker = Worker(poll_seconds=poll, burst=burst)

        def on_signal(signum, frame):
            if worker.stopping:
                os._exit(128 + signum)
            worker.stop()
            self.stderr.write(f"worker {worker.worker_id}: finishing the current job, then exiting "
                              "(signal again to exit now)")

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.stdout.write(f"worker {worker.worker_id} started")
        self.stdout.flush()
        stats = worker.run()
        self.stdout.write(
            f"worker {worker.worker_id} stopped: {stats.succeeded} succeeded, "
            f"{stats.retried} to retry, {stats.failed} failed"
        )
