"""``tend demo``: build (or rebuild) the Demo workspace and print how to log in."""

import os

from django.core.management.base import BaseCommand

from tend.demo import usage
from tend.demo import vocabulary as v
from tend.demo.actions import rebuild_demo_workspace
from tend.demo.health import HISTORY_DAYS


class Command(BaseCommand):
    help = "Build the Demo workspace (slug 'demo') from a fixed seed, replacing any existing one."

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed",
            type=int,
            default=v.DEFAULT_SEED,
            help=f"Random seed; the same seed gives the same data (default {v.DEFAULT_SEED}).",
        )

    def handle(self, *args, seed, **options):
        result = rebuild_demo_workspace(seed=seed)
        counts = result.counts
        self.stdout.write(
            f"Built the {result.workspace.name} workspace in {result.seconds:.1f}s: "
            f"{counts['accounts']} accounts, {counts['end_users']} end users, "
            f"{counts['contacts']} contacts, {counts['members']} members, "
            f"{counts['events']:,} usage events over {usage.DAYS} days, "
            f"{counts['status_changes']} changes of status (trials converted, customers "
            f"churned) and {HISTORY_DAYS} days of health history "
            f"({counts['health_snapshots']:,} snapshots, {counts['rank_changes']:,} changes of "
            f"rank); {counts['segments']} segments with {counts['segment_changes']:,} entries "
            f"and exits; {counts['scorecards']} scorecards and {counts['saved_views']} saved "
            f"views; {counts['tasks']} tasks ({counts['tasks_done']} done); "
            f"{counts['touchpoints']} touchpoints; {counts['plays']} active "
            f"plays with {counts['play_runs']} runs ({counts['play_tasks']} tasks, "
            f"{counts['play_emails']} emails)."
        )
        self.stdout.write(
            f"Other seats to try (same password): viewer@{v.DOMAIN}, contributor@{v.DOMAIN}, "
            f"maya.okafor@{v.DOMAIN} (practitioner)."
        )
        port = os.environ.get("PORT") or "8000"
        self.stdout.write(
            self.style.SUCCESS(
                f"Log in at http://127.0.0.1:{port} as {result.admin_email} / {result.password}"
            )
        )
