"""Periodic work, listed once. ``tend scheduler`` (and ``tend serve``) enqueue each entry's job
on its rhythm: ``every=timedelta(...)``, or ``at="HH:MM"`` daily in UTC. Adding periodic work
is one line here plus a ``@job`` in the owning app's ``jobs.py``. Per-workspace work is one
entry whose job enqueues a job per workspace.
"""

from datetime import timedelta

from tend.jobs.scheduling import Periodic

SCHEDULE = [
    Periodic("purge-finished-jobs", "jobs.purge_finished", every=timedelta(hours=1)),
    Periodic("purge-idempotency-keys", "workspaces.purge_idempotency_keys", every=timedelta(hours=1)),
    # Ingestion also asks for a rollup seconds after events arrive; this catches up after
    # downtime and rolls metrics forward at midnight.
    Periodic("usage-roll-up", "usage.roll_up", every=timedelta(seconds=30)),
    Periodic("usage-prune", "usage.prune", at="03:15"),
    # Scores workspaces whose usage, accounts, custom metrics or profiles changed.
    Periodic("health-rescore", "health.rescore_changed", every=timedelta(seconds=30)),
    # Dynamic segments whose data changed, or that are nearly a minute old, are evaluated
    # again (docs/segments.md); counts are recorded hourly in each workspace's own day.
    Periodic("segments-refresh", "segments.refresh_due", every=timedelta(seconds=15)),
    Periodic("segments-record-counts", "segments.record_counts", every=timedelta(hours=1)),
    # Scorecard cards' values, for their trends (the day keeps its last value).
    Periodic("scorecards-record-values", "segments.record_card_values", every=timedelta(hours=1)),
    # Pending email whose delivery job was lost gets a new one (docs/outbox.md).
    Periodic("outbox-requeue-stalled", "outbox.requeue_stalled", every=timedelta(minutes=10)),
    # Plays read their triggers' change rows, schedules and dates, and advance due runs
    # (docs/plays.md): every 5 s, so a single change reaches a play's first step in seconds.
    Periodic("plays-poll", "plays.poll", every=timedelta(seconds=5)),
    # Alert rules read the same change rows the same way, and notify (docs/alerts.md).
    Periodic("alerts-poll", "alerts.poll", every=timedelta(seconds=5)),
    Periodic("alerts-purge-firings", "alerts.purge_firings", at="03:45"),
    # Daily digests: members whose chosen local hour has come get today's, once (docs/digest.md).
    Periodic("digest-send-due", "digest.send_due", every=timedelta(minutes=5)),
    # Events whose dispatch job was lost, and webhook deliveries whose attempt job was lost,
    # are queued again; old ones are purged after 30 days (docs/webhooks.md).
    Periodic("events-queue-stalled", "events.queue_stalled", every=timedelta(minutes=1)),
    Periodic("events-purge", "events.purge", at="03:40"),
    Periodic("webhooks-requeue-stalled", "webhooks.requeue_stalled", every=timedelta(minutes=5)),
    Periodic("webhooks-purge", "webhooks.purge", at="03:50"),
    # SFTP sources due by their own schedule (every N minutes each) get a poll job (docs/imports.md).
    Periodic("hub-sftp-poll-due", "hub.sftp_poll_due", every=timedelta(minutes=1)),
    # Scheduled exports due (daily at a local time, or every N hours) get a run job (docs/exports.md).
    Periodic("hub-export-due", "hub.export_due", every=timedelta(minutes=1)),
]
