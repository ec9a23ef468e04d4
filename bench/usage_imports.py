"""Benchmark: import a 1,000,000-row usage CSV (daily totals per end user and activity), end
to end.

Writes the CSV (date, account, end user, activity, module, count, seconds) for 500 accounts
with 10 end users each over 50 days and 4 activities, then times, in one process on a fresh
database: the upload (stored on disk, encoding and header detected, mapping suggested), the
import run by the job worker as in production, the rollup job that turns the imported days
into every account's and end user's metrics, and a re-import of the same file (every row
unchanged). Peak memory is the process's maximum RSS. Baseline, measured in the same run: the
same rows sent straight to ``tend.usage.actions.imports.import_usage_days`` as pre-built
dicts in chunks of the same size, into a second workspace — the import's cost over it is
reading the file twice (row count and duplicate keys), mapping and recording progress.

    .venv/bin/python bench/usage_imports.py                  # SQLite under bench/out-usage-imports
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/usage_imports.py
    BENCH_ROWS=50000 .venv/bin/python bench/usage_imports.py # a quick look

Goal (issue 8): ≤ 120 s end to end, peak memory ≤ 1 GB. The last line is one JSON object.
"""

import datetime
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "out-usage-imports"
os.environ.setdefault("TEND_DATA_DIR", str(DATA))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")

ROWS = int(os.environ.get("BENCH_ROWS", 1_000_000))
ACCOUNTS, USERS, ACTIVITIES, DAYS = 500, 10, ("login", "report", "export", "share"), 50
MODULES = {"login": "", "report": "Reports", "export": "Reports", "share": "Collaboration"}
HEADER = ["date", "account_id", "user_id", "activity", "module", "count", "seconds"]


def rows(limit: int):
    """Day by day (as a warehouse exports), then account, end user and activity."""
    first = datetime.date.today() - datetime.timedelta(days=DAYS)
    per_day = ACCOUNTS * USERS * len(ACTIVITIES)
    for n in range(limit):
        day, rest = divmod(n, per_day)
        account, rest = divmod(rest, USERS * len(ACTIVITIES))
        user, activity = divmod(rest, len(ACTIVITIES))
        name = ACTIVITIES[activity]
        date = (first + datetime.timedelta(days=day % DAYS, weeks=52 * (day // DAYS))).isoformat()
        yield [
            date,
            f"acct-{account}",
            f"acct-{account}-u{user}",
            name,
            MODULES[name],
            str(1 + n % 17),
            str(n % 300),
        ]


def write_csv(path: Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(HEADER) + "\n")
        for row in rows(ROWS):
            f.write(",".join(row) + "\n")


def workspace(slug: str):
    from django_scopes import scopes_disabled

    from tend.accounts.models import Account, EndUser
    from tend.test import make_member
    from tend.workspaces.models import Workspace

    with scopes_disabled():
        Workspace.objects.filter(slug=slug).delete()
        ws = Workspace.objects.create(name=slug, slug=slug)
        member = make_member(ws, "admin", email=f"{slug}@example.com")
        accounts = Account.objects.bulk_create(
            [
                Account(workspace=ws, external_id=f"acct-{a}", name=f"Account {a}")
                for a in range(ACCOUNTS)
            ]
        )
        EndUser.objects.bulk_create(
            [
                EndUser(workspace=ws, account=account, external_id=f"acct-{a}-u{u}")
                for a, account in enumerate(accounts)
                for u in range(USERS)
            ]
        )
    return member


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    if not os.environ.get("DATABASE_URL"):
        shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
    from django.conf import settings
    from django.core.files import File
    from django.core.management import call_command
    from django.db import transaction
    from django_scopes import scope, scopes_disabled

    from tend.hub import actions
    from tend.hub.models import Import
    from tend.hub.registered import USAGE
    from tend.jobs.runner import Worker
    from tend.test import actor_for
    from tend.usage.actions.imports import import_usage_days
    from tend.usage.models import AccountUsage, ImportedDay
    from tend.usage.rollups import roll_up

    call_command("migrate", verbosity=0)
    path = DATA / "usage.csv"
    write_csv(path)
    size_mb = path.stat().st_size / 1e6
    chunk = settings.TEND_IMPORT_CHUNK * USAGE.chunk_factor
    print(f"{ROWS:,} rows, {size_mb:.1f} MB CSV; chunk {chunk}; {django.db.connection.vendor}")

    member = workspace("bench-usage-imports")
    actor = actor_for(member)
    figures = {"rows": ROWS, "csv_mb": round(size_mb, 1), "database": django.db.connection.vendor}
    with scope(workspace=actor.workspace.pk):
        started = time.perf_counter()
        with open(path, "rb") as f:
            imp = actions.upload_file(actor, File(f, name="usage.csv"), object="usage")
        actions.set_mapping(actor, imp, {h: f for h, f in imp.mapping.items() if f})
        figures["upload_s"] = round(time.perf_counter() - started, 2)
        assert len([f for f in imp.mapping.values() if f]) == len(HEADER), imp.mapping
        t = time.perf_counter()
        real = actions.start_import(actor, imp, dry_run=False)
    Worker(poll_seconds=0.01, burst=True).run()  # the import, then the rollup it asked for
    figures["import_and_rollup_s"] = round(time.perf_counter() - t, 2)
    with scope(workspace=actor.workspace.pk):
        real = Import.objects.get(pk=real.pk)
        assert (real.created, real.rejected) == (ROWS, 0), (
            real.created,
            real.rejected,
            real.status,
            real.error,
        )
        figures["import_s"] = round(real.duration.total_seconds(), 2)
    t = time.perf_counter()
    with scopes_disabled():
        roll_up()  # anything the worker's rollup left (none when it ran after the import)
        figures["rollup_after_s"] = round(time.perf_counter() - t, 2)
        assert ImportedDay.objects.filter(workspace=actor.workspace).count() == ROWS
        assert AccountUsage.objects.filter(workspace=actor.workspace, dirty=0).count() == ACCOUNTS
    figures["end_to_end_s"] = round(
        figures["upload_s"] + figures["import_and_rollup_s"] + figures["rollup_after_s"], 2
    )
    with scope(workspace=actor.workspace.pk):
        t = time.perf_counter()
        with open(path, "rb") as f:
            again = actions.upload_file(actor, File(f, name="usage.csv"), object="usage")
        actions.set_mapping(actor, again, {h: f for h, f in again.mapping.items() if f})
        again = actions.start_import(actor, again, dry_run=False)
    Worker(poll_seconds=0.01, burst=True).run()
    figures["reimport_unchanged_s"] = round(time.perf_counter() - t, 2)
    with scope(workspace=actor.workspace.pk):
        assert Import.objects.get(pk=again.pk).unchanged == ROWS

    # Baseline: the same rows straight into the usage app's write path, chunk by chunk.
    base_actor = actor_for(workspace("bench-usage-imports-baseline"))
    fields = [
        "date",
        "account_external_id",
        "user_external_id",
        "activity",
        "module",
        "count",
        "seconds",
    ]
    t = time.perf_counter()
    with scope(workspace=base_actor.workspace.pk):
        batch = []
        for row in rows(ROWS):
            batch.append(dict(zip(fields, row, strict=True)))
            if len(batch) == chunk:
                with transaction.atomic():
                    import_usage_days(base_actor, batch, source="bench")
                batch = []
        if batch:
            with transaction.atomic():
                import_usage_days(base_actor, batch, source="bench")
    figures["baseline_write_s"] = round(time.perf_counter() - t, 2)
    figures["import_over_baseline"] = round(figures["import_s"] / figures["baseline_write_s"], 2)
    figures["rows_per_s"] = round(ROWS / figures["import_s"])
    figures["peak_memory_mb"] = round(peak_mb())
    for key, value in figures.items():
        print(f"  {key:28} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
