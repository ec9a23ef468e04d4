"""An import survives its worker being SIGKILLed mid-file: the next worker resumes after the
last committed chunk, and every row is counted — and written — exactly once."""

import random
import signal
import subprocess
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tend.accounts.models import Account
from tend.hub import actions
from tend.hub.models import Import, ImportStatus, RejectedRow
from tend.hub.tests.conftest import csv_bytes
from tend.jobs.models import Job
from tend.jobs.tests.processes import start, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROWS = 400
CHUNK = 10
KILLS = 3


@pytest.fixture
def workers(import_dir):
    """Start workers that see this test's import folder; every one still alive at the end —
    pass or fail — is killed and reaped, so no process outlives the test."""
    started: list[subprocess.Popen] = []

    def _start(log):
        process = start(
            ["tend.hub.tests.worker_process", "--poll", "0.05"], log,
            TEND_IMPORT_DIR=str(import_dir), TEND_IMPORT_CHUNK=str(CHUNK), HUB_TEST_CHUNK_PAUSE="0.03",
        )
        started.append(process)
        return process

    yield _start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=15)


def file_text() -> str:
    lines = ["external_id,name"]
    lines += [f"k-{i:04d},Company {i}" for i in range(ROWS - 3)]
    lines += ["k-0007,Duplicate of row 9", "bad key ,Spaces around the key", "k-9999,"]  # 3 rejected + row 9
    return "\n".join(lines) + "\n"


def test_a_killed_import_resumes_and_commits_each_row_once(owner, upload, workers, tmp_path):
    Account.objects.create(workspace=owner.workspace, external_id="k-0001", name="Company 1")  # unchanged
    Account.objects.create(workspace=owner.workspace, external_id="k-0002", name="Old name")  # updated
    imp = upload(owner, csv_bytes(file_text()))
    actions.set_mapping(owner.actor, imp, {"external_id": "external_id", "name": "name"})
    imp = actions.start_import(owner.actor, imp, dry_run=False)
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    log = tmp_path / "workers.log"
    progress = []
    for kill in range(KILLS):
        worker = workers(log)
        seen = Import.objects.get(pk=imp.pk).rows_done
        wait_for(
            lambda seen=seen: Import.objects.get(pk=imp.pk).rows_done > seen,
            timeout=60, what=f"kill {kill + 1}: the import to move on (seed {seed}, log {log})",
        )
        time.sleep(rng.uniform(0, 0.1))  # land anywhere: between chunks or in one
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=15)
        progress.append(Import.objects.get(pk=imp.pk).rows_done)
        # The lease of the dead worker's job runs out (as it would after lease_seconds).
        Job.objects.filter(pk=imp.job_id).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert 0 < progress[-1] < ROWS, f"the kills should land mid-file: {progress} (seed {seed})"

    workers(tmp_path / "last.log")
    wait_for(lambda: Import.objects.get(pk=imp.pk).is_finished, timeout=60, what=f"the import to finish (seed {seed})")
    imp.refresh_from_db()
    job = Job.objects.get(pk=imp.job_id)
    assert job.attempts == KILLS + 1
    assert imp.status == ImportStatus.PARTIAL
    assert imp.rows_total == imp.rows_done == ROWS
    # Each row counted once: the four counts add up to the rows, no more.
    assert (imp.created, imp.updated, imp.unchanged, imp.rejected) == (ROWS - 6, 1, 1, 4)
    assert imp.created + imp.updated + imp.unchanged + imp.rejected == ROWS
    assert Account.objects.filter(workspace=owner.workspace).count() == ROWS - 4
    assert Account.objects.get(external_id="k-0002").name == "Company 2"
    assert list(RejectedRow.objects.filter(import_run=imp).values_list("row_number", flat=True)) == [9, 399, 400, 401]
    print(f"seed {seed}: rows done at each kill {progress}")
