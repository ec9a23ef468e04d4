"""``tend worker`` that pauses after each committed chunk of an import, so a test can kill it
mid-file: ``python -m tend.hub.tests.worker_process`` (pause from ``HUB_TEST_CHUNK_PAUSE``)."""

import os
import sys
import time

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")
    import django

    django.setup()
    from django.core.management import execute_from_command_line

    from tend.hub import running

    pause = float(os.environ.get("HUB_TEST_CHUNK_PAUSE", "0.05"))
    running.after_chunk = lambda imp, rows_done: time.sleep(pause)
    execute_from_command_line(["tend", "worker", *sys.argv[1:]])
