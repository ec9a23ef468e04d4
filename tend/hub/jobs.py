"""The data hub's background jobs."""

import csv
import logging
import zipfile

from tend.hub.actions import RUN_JOB
from tend.hub.running import fail_import, run_import
from tend.jobs.registry import job
from tend.lib.errors import InvalidInput

log = logging.getLogger("tend.hub")
# A worker killed mid-file (a deploy, a restart, memory) costs its job an attempt, and a
# 100 MB file may see several: each attempt carries on after the last committed chunk, so
# more attempts lose nothing (a problem of the file itself fails at once, see PERMANENT).
MAX_ATTEMPTS = 8
# Problems of the file itself: running again would meet them again, so the import fails at
# once with the reason instead of after every retry's backoff.
PERMANENT = (csv.Error, UnicodeError, FileNotFoundError, zipfile.BadZipFile, InvalidInput)


@job(RUN_JOB, max_attempts=MAX_ATTEMPTS, lease_seconds=300)
def run_import_job(job_row) -> None:
    """Run one import (see ``tend.hub.running``): resumable from the last committed chunk, so a
    killed worker's successor carries on where it stopped. A problem of the file fails the
    import at once; any other error is retried, and on the last attempt the import is marked
    failed with the reason, so the report tells someone."""
    import_id = job_row.payload["import_id"]
    try:
        run_import(import_id)
    except PERMANENT as exc:
        log.warning("import %s failed: %s", import_id, exc)
        fail_import(import_id, f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        if job_row.attempts >= job_row.max_attempts:
            fail_import(import_id, f"{type(exc).__name__}: {exc}")
        raise


# The jobs of SFTP sources (tend/hub/sftp/jobs.py) and of scheduled exports
# (tend/hub/export_schedules/jobs.py), registered with the hub's.
from tend.hub.export_schedules import jobs as _export_jobs  # noqa: E402, F401
from tend.hub.sftp import jobs as _sftp_jobs  # noqa: E402, F401
