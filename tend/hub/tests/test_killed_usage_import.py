"""A usage file imported while its worker is SIGKILLed five times: the stored totals equal
the file's exactly — every row written once, none lost, none counted twice.

The issue asks for a 1,000,000-row file. Here the file has ``HUB_KILLED_USAGE_ROWS`` rows
(20,000 by default, so that CI runs it in well under a minute on two shared cores: the
1,000,000 rows alone take a minute or more to import on this machine, before any kill).
The code path does not depend on the size — the same chunks, resume point and writes —
and the run with the issue's size is one environment variable away:

    HUB_KILLED_USAGE_ROWS=1000000 pytest -n 0 tend/hub/tests/test_killed_usage_import.py

(``bench/usage_imports.py`` measures the 1,000,000-row import itself.)
"""

import datetime
import os
import random
import signal
import subprocess
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.core.files import File
from django.utils import timezone
from django_scopes import scopes_disabled

from tend.accounts.models import Account, EndUser
from tend.hub import actions
from tend.hub.models import Import, ImportStatus
from tend.jobs.models import Job
from tend.jobs.tests.processes import start, wait_for
from tend.lib.dates import day_number
from tend.usage.models import AccountActivityDay, AccountDay, AccountUsage, ImportedDay, UserDay
from tend.usage.rollups import roll_up

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROWS = int(os.environ.get("HUB_KILLED_USAGE_ROWS", 20_000))
KILLS = 5
USERS_PER_ACCOUNT = 4
ACTIVITIES = ("login", "report", "export", "share")
DAYS = 80
# Enough accounts that every row of the file has a key of its own.
ACCOUNTS = max(50, -(-ROWS // (USERS_PER_ACCOUNT * len(ACTIVITIES) * DAYS)))


# Rows per chunk: TEND_IMPORT_CHUNK × the usage record's chunk factor (5).
CHUNK = int(os.environ.get("HUB_KILLED_USAGE_CHUNK", 100))


@pytest.fixture
def workers(import_dir):
    """Workers that see this test's import folder, each killed and reaped at the end."""
    started: list[subprocess.Popen] = []

    def _start(log):
        process = start(
            ["tend.hub.tests.worker_process", "--poll", "0.05"],
            log,
            TEND_IMPORT_DIR=str(import_dir),
            TEND_IMPORT_CHUNK=str(CHUNK),
            HUB_TEST_CHUNK_PAUSE="0.02",
        )
        started.append(process)
        return process

    yield _start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=15)


def write_file(path, rng: random.Random) -> dict:
    """Distinct (user, day, activity) rows, each with a random count; returns the totals the
    database must end with."""
    today = datetime.date.today()
    expected = {
        "account_day": Counter(),
        "user_day": Counter(),
        "activity_day": Counter(),
        "account": Counter(),
    }
    keys_per_day = ACCOUNTS * USERS_PER_ACCOUNT * len(ACTIVITIES)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("date,account_id,user_id,activity,count\r\n")
        for n in range(ROWS):
            day_back, rest = divmod(n, keys_per_day)
            account, rest = divmod(rest, USERS_PER_ACCOUNT * len(ACTIVITIES))
            user, activity = divmod(rest, len(ACTIVITIES))
            date = today - datetime.timedelta(days=1 + day_back)
            count = rng.randrange(0, 50)
            a, u, act = f"a-{account}", f"a-{account}-u{user}", ACTIVITIES[activity]
            f.write(f"{date.isoformat()},{a},{u},{act},{count}\r\n")
            day = day_number(date)
            expected["account_day"][(a, day)] += count
            expected["user_day"][(u, day)] += count
            expected["activity_day"][(a, day, act)] += count
            expected["account"][a] += count
    return expected


def stored(model, *fields) -> Counter:
    out = Counter()
    for *key, events in model.objects.values_list(*fields, "events"):
        out[tuple(key) if len(key) > 1 else key[0]] += events
    return out


def test_a_usage_import_killed_five_times_stores_the_files_totals_exactly(owner, workers, tmp_path):
    assert ACCOUNTS * USERS_PER_ACCOUNT * len(ACTIVITIES) * 80 >= ROWS, "the file would repeat keys"
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    ws = owner.workspace
    accounts = Account.objects.bulk_create(
        [Account(workspace=ws, external_id=f"a-{a}", name=f"Account {a}") for a in range(ACCOUNTS)]
    )
    EndUser.objects.bulk_create(
        [
            EndUser(workspace=ws, account=account, external_id=f"a-{a}-u{u}")
            for a, account in enumerate(accounts)
            for u in range(USERS_PER_ACCOUNT)
        ]
    )
    path = tmp_path / "usage.csv"
    expected = write_file(path, rng)
    with open(path, "rb") as f:
        imp = actions.upload_file(owner.actor, File(f, name="usage.csv"), object="usage")
    assert set(imp.mapping.values()) == {
        "date",
        "account_external_id",
        "user_external_id",
        "activity",
        "count",
    }
    actions.set_mapping(owner.actor, imp, imp.mapping)
    imp = actions.start_import(owner.actor, imp, dry_run=False)

    log = tmp_path / "workers.log"
    progress = []
    for kill in range(KILLS):
        worker = workers(log)
        seen = Import.objects.get(pk=imp.pk).rows_done
        wait_for(
            lambda seen=seen: Import.objects.get(pk=imp.pk).rows_done > seen,
            timeout=120,
            what=f"kill {kill + 1}: the import to move on (seed {seed}, log {log})",
        )
        time.sleep(rng.uniform(0, 0.1))  # land anywhere: between chunks or in one
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=15)
        progress.append(Import.objects.get(pk=imp.pk).rows_done)
        Job.objects.filter(pk=imp.job_id).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert 0 < progress[-1] < ROWS, f"the kills should land mid-file: {progress} (seed {seed})"

    workers(tmp_path / "last.log")
    wait_for(
        lambda: Import.objects.get(pk=imp.pk).is_finished,
        timeout=600,
        what=f"the import to finish (seed {seed})",
    )
    imp.refresh_from_db()
    assert Job.objects.get(pk=imp.job_id).attempts == KILLS + 1
    assert imp.status == ImportStatus.SUCCEEDED, imp.error
    assert imp.rows_total == imp.rows_done == ROWS
    assert (imp.created, imp.updated, imp.unchanged, imp.rejected) == (ROWS, 0, 0, 0)
    assert ImportedDay.objects.filter(workspace=ws).count() == ROWS

    # The totals, exactly: per account and day, per end user and day, per activity.
    assert stored(AccountDay, "account__external_id", "day") == +expected["account_day"]
    assert stored(UserDay, "end_user__external_id", "day") == +expected["user_day"]
    assert (
        stored(AccountActivityDay, "account__external_id", "day", "activity")
        == +expected["activity_day"]
    )
    with scopes_disabled():
        roll_up()
    assert dict(AccountUsage.objects.values_list("account__external_id", "events_90d")) == dict(
        expected["account"]
    )
    print(f"seed {seed}: rows done at each kill {progress}")
