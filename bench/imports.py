"""Benchmark: import a 100,000-row account CSV with 10 attributes, end to end.

Writes the CSV (12 columns: key, name, 10 typed attributes) to disk, then times, in one
process on a fresh database: the upload (stored on disk, encoding and header detected), the
dry run of the whole file, and the real import (both run by the job worker, as in
production), and reports the process's peak memory. Baseline, measured in the same run: the
same rows sent straight to the bulk upsert (``tend.accounts.bulk.upsert_accounts``) as
pre-built dicts in chunks of the same size, into a second empty workspace — the import's
cost over that is reading, mapping, checking duplicates and recording progress.

    .venv/bin/python bench/imports.py                       # SQLite under bench/out-imports
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/imports.py

Goal (issue 8): ≤ 30 s end to end, peak memory ≤ 1 GB. The last line is one JSON object.
"""

import csv
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "out-imports"
os.environ.setdefault("TEND_DATA_DIR", str(DATA))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")

ROWS = int(os.environ.get("BENCH_ROWS", 100_000))
PLANS = ["starter", "growth", "enterprise"]
REGIONS = ["EMEA", "NA", "APAC", "LATAM"]
ATTRIBUTES = [
    ("plan", "Plan", "enum", PLANS), ("seats", "Seats", "number", []), ("mrr", "MRR", "currency", []),
    ("renewal_date", "Renewal date", "date", []), ("region", "Region", "enum", REGIONS),
    ("industry", "Industry", "text", []), ("website", "Website", "url", []),
    ("active", "Active", "boolean", []), ("csm_notes", "CSM notes", "text", []),
    ("employees", "Employees", "number", []),
]


def row(n: int) -> list:
    return [
        f"acct-{n:07d}", f"Company {n}", PLANS[n % 3], 10 + n % 500, f"{100 + (n % 97) * 12.5:.2f}",
        f"2027-{1 + n % 12:02d}-{1 + n % 28:02d}", REGIONS[n % 4], f"Industry {n % 40}",
        f"https://c{n}.example.com", "yes" if n % 2 else "no", f"Note for account {n}", 5 + n % 9000,
    ]


def write_csv(path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["external_id", "name", *[label for _, label, _, _ in ATTRIBUTES]])
        for n in range(ROWS):
            writer.writerow(row(n))


def workspace(slug: str):
    from django_scopes import scopes_disabled

    from tend.accounts.models import AttributeDefinition
    from tend.test import make_member
    from tend.workspaces.models import Workspace

    with scopes_disabled():
        Workspace.objects.filter(slug=slug).delete()
        ws = Workspace.objects.create(name=slug, slug=slug)
        member = make_member(ws, "admin", email=f"{slug}@example.com")
        for position, (key, label, kind, options) in enumerate(ATTRIBUTES):
            AttributeDefinition.objects.create(
                workspace=ws, key=key, label=label, type=kind, options=options, position=position
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
    from django_scopes import scope

    from tend.accounts.bulk import upsert_accounts
    from tend.hub import actions
    from tend.hub.models import Import
    from tend.jobs.runner import Worker
    from tend.test import actor_for

    call_command("migrate", verbosity=0)
    path = DATA / "accounts.csv"
    write_csv(path)
    size_mb = path.stat().st_size / 1e6
    print(f"{ROWS:,} rows, {size_mb:.1f} MB CSV; chunk {settings.TEND_IMPORT_CHUNK}; {django.db.connection.vendor}")

    member = workspace("bench-imports")
    actor = actor_for(member)
    figures = {"rows": ROWS, "csv_mb": round(size_mb, 1), "database": django.db.connection.vendor}
    with scope(workspace=actor.workspace.pk):
        started = time.perf_counter()
        with open(path, "rb") as f:
            imp = actions.upload_file(actor, File(f, name="accounts.csv"), object="account")
        actions.set_mapping(actor, imp, {h: f for h, f in imp.mapping.items() if f})
        figures["upload_s"] = round(time.perf_counter() - started, 2)
        assert all(imp.mapping.values()), imp.mapping

        t = time.perf_counter()
        dry = actions.start_import(actor, imp, dry_run=True)
    Worker(poll_seconds=0.01, burst=True).run()
    figures["dry_run_s"] = round(time.perf_counter() - t, 2)
    with scope(workspace=actor.workspace.pk):
        dry = Import.objects.get(pk=dry.pk)
        assert (dry.created, dry.rejected) == (ROWS, 0), (dry.created, dry.rejected, dry.status)
        t = time.perf_counter()
        real = actions.start_import(actor, dry, dry_run=False)
    Worker(poll_seconds=0.01, burst=True).run()
    figures["import_s"] = round(time.perf_counter() - t, 2)
    figures["end_to_end_s"] = round(figures["upload_s"] + figures["import_s"], 2)
    figures["end_to_end_with_dry_run_s"] = round(figures["upload_s"] + figures["dry_run_s"] + figures["import_s"], 2)
    with scope(workspace=actor.workspace.pk):
        real = Import.objects.get(pk=real.pk)
        assert (real.created, real.rejected) == (ROWS, 0), (real.created, real.rejected, real.status)
        t = time.perf_counter()
        again = actions.start_import(actor, dry, dry_run=False)
    Worker(poll_seconds=0.01, burst=True).run()
    figures["reimport_unchanged_s"] = round(time.perf_counter() - t, 2)
    with scope(workspace=actor.workspace.pk):
        assert Import.objects.get(pk=again.pk).unchanged == ROWS

    # Baseline: the same rows straight into the bulk upsert, chunk by chunk.
    base_actor = actor_for(workspace("bench-imports-baseline"))
    keys = [key for key, _, _, _ in ATTRIBUTES]
    t = time.perf_counter()
    with scope(workspace=base_actor.workspace.pk):
        chunk = settings.TEND_IMPORT_CHUNK
        for start in range(0, ROWS, chunk):
            items = []
            for n in range(start, min(start + chunk, ROWS)):
                cells = [str(c) for c in row(n)]
                items.append({"external_id": cells[0], "name": cells[1], "attributes": dict(zip(keys, cells[2:], strict=True))})
            upsert_accounts(base_actor, items, source="bench")
    figures["baseline_bulk_s"] = round(time.perf_counter() - t, 2)
    figures["import_over_baseline"] = round(figures["import_s"] / figures["baseline_bulk_s"], 2)
    figures["rows_per_s"] = round(ROWS / figures["import_s"])
    figures["peak_memory_mb"] = round(peak_mb())
    for key, value in figures.items():
        print(f"  {key:28} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
