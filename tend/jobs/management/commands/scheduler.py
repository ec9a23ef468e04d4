"""``tend scheduler``: enqueue the periodic jobs of ``tend/schedule.py`` when they are due.

Several schedulers may run; each run is enqueued once. SIGTERM or SIGINT stops after the
current pass; a second signal exits at once.
"""

import os
import signal

from django.core.management.base import BaseCommand

from tend.jobs.scheduling import Scheduler


class Command(BaseCommand):
    help = "Enqueue periodic jobs from tend/schedule.py when they are due."

    def add_arguments(self, parser):
        parser.add_argument("--poll", type=float, default=5.0, help="Longest wait between passes, in seconds.")
        parser.add_argument("--once", action="store_true", help="Run one pass and exit.")

    def handle(self, *args, poll, once, **options):
        scheduler = Scheduler(poll_seconds=poll)
        stopping = []

        def on_signal(signum, frame):
            if stopping:
                os._exit(128 + signum)
            stopping.append(signum)
            scheduler.stop()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        names = ", ".join(f"{e.name} ({e.rhythm})" for e in scheduler.schedule)
        self.stdout.write(f"scheduler started: {names}")
        self.stdout.flush()
        scheduler.run(once=once)
        self.stdout.write("scheduler stopped")
