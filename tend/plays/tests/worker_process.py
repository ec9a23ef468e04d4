"""``tend worker`` with the test step registered and short leases, for the kill test:
``python -m tend.plays.tests.worker_process``."""

import datetime
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")
    import django

    django.setup()
    from django.core.management import execute_from_command_line

    from tend.jobs.registry import job
    from tend.plays import engine
    from tend.plays import jobs as play_jobs
    from tend.plays.tests import sample_steps

    sample_steps.register()
    # Short leases, so a killed worker's run and job come back within the test's time.
    engine.LEASE = datetime.timedelta(seconds=2)
    job(engine.ADVANCE_JOB, max_attempts=100, lease_seconds=2)(play_jobs.advance)
    execute_from_command_line(["tend", "worker", *sys.argv[1:]])
