"""``tend worker`` with the test-only jobs registered: ``python -m tend.jobs.tests.worker_process``."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")
    import django

    django.setup()
    from django.core.management import execute_from_command_line

    import tend.jobs.tests.sample_jobs  # noqa: F401  (registers the tests.* kinds)

    execute_from_command_line(["tend", "worker", *sys.argv[1:]])
