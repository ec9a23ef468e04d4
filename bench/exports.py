"""Benchmark: exporting 100,000 accounts as CSV and XLSX — how soon the first rows leave, how
long the whole file takes, the queries and the memory it costs.

Set-up (not measured): the population of ``bench/segments.py`` (statuses, two typed
attributes, a usage row for 90 % of accounts and a health row for 95 %), written with raw
bulk statements.

For each format, two exports are streamed to nowhere, as a response would be:

* **fields** — ``id, external_id, name, status, attributes.plan, attributes.seats,
  usage.events_30d, health.rank, health.score`` by id (the API's export);
* **list** — the accounts list's columns (name, external id, tags, status, stage, owner,
  health, score, usage columns, attributes, updated) sorted by name (the Export button).

Figures: seconds to the first chunk holding rows, seconds to the end, rows a second,
queries, and the peak of Python memory allocated while exporting (``tracemalloc``, in a
second pass, since tracing slows the run). Baseline in the same run: reading the same
accounts' ids, names, statuses and attributes in one ``values_list`` query, unformatted.

    .venv/bin/python bench/exports.py                       # SQLite, 100,000 accounts
    .venv/bin/python bench/exports.py --reuse               # keep the filled database
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_exports .venv/bin/python bench/exports.py

The last line printed is one JSON object with the figures.
"""

import argparse
import json
import os
import shutil
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / "out-exports"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("TEND_DATA_DIR", str(DATA_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")

import segments as population  # noqa: E402  (bench/segments.py: the same accounts)

FIELDS = [
    "status",
    "attributes.plan",
    "attributes.seats",
    "usage.events_30d",
    "health.rank",
    "health.score",
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="keep the filled database")
    return parser.parse_args()


def exporter(kind: str, format: str):
    """A function returning a fresh stream of the export's byte chunks."""
    from tend.accounts.conditions import account_catalog
    from tend.accounts.exports import export_response, field_columns, list_columns
    from tend.accounts.models import Account, AssignmentRole
    from tend.accounts.queries import (
        AccountFilters,
        accounts_for_list,
        list_attribute_columns,
        primary_role_of,
    )
    from tend.workspaces.models import Workspace

    workspace = Workspace.objects.get(slug=population.SLUG)

    def stream():
        if kind == "fields":
            catalog = account_catalog(workspace)
            columns = field_columns(catalog, FIELDS)
            accounts = Account.objects.filter(workspace=workspace)
            response = export_response(
                workspace, accounts, columns, format, headers="key", catalog=catalog
            )
        else:
            role = primary_role_of(list(AssignmentRole.objects.filter(workspace=workspace)))
            columns = list_columns(role, list_attribute_columns(workspace))
            accounts = accounts_for_list(workspace, AccountFilters(sort="name"), role)
            response = export_response(workspace, accounts, columns, format)
        return iter(response.streaming_content)

    return stream


def measure(stream_of) -> dict:
    from django.db import connection

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    started = time.perf_counter()
    cpu = time.process_time()
    first_rows = None
    size = 0
    chunks = 0
    with connection.execute_wrapper(count):
        for chunk in stream_of():
            chunks += 1
            size += len(chunk)
            # The CSV's first chunk is the header alone, the XLSX's the zip's first header:
            # rows have left once a later chunk has.
            if first_rows is None and chunks == 2:
                first_rows = time.perf_counter() - started
    seconds = time.perf_counter() - started
    return {
        "first_rows_s": round(first_rows or seconds, 3),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "bytes": size,
        "chunks": chunks,
        "queries": len(queries),
    }


def peak_memory(stream_of) -> float:
    """MiB: the peak of Python allocations while the export runs, above where it started."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _chunk in stream_of():
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return round((peak - base) / 2**20, 1)


def baseline(n: int) -> float:
    from tend.accounts.models import Account
    from tend.workspaces.models import Workspace

    workspace = Workspace.objects.get(slug=population.SLUG)
    started = time.perf_counter()
    rows = list(
        Account.objects.filter(workspace=workspace)
        .order_by("pk")
        .values_list("pk", "external_id", "name", "status", "attributes")
    )
    assert len(rows) == n
    return round(time.perf_counter() - started, 2)


def main():
    args = parse_args()
    if not args.reuse:
        if not population.is_postgres():
            shutil.rmtree(DATA_DIR, ignore_errors=True)
            DATA_DIR.mkdir(parents=True)
        population.fill(args.accounts)
    import django

    django.setup()
    from django.db import connection
    from django_scopes import scopes_disabled

    results = {}
    with scopes_disabled():
        read = baseline(args.accounts)
        print(f"baseline: {args.accounts:,} accounts read in one query in {read} s", flush=True)
        for kind in ("fields", "list"):
            for format in ("csv", "xlsx"):
                stream_of = exporter(kind, format)
                figures = measure(stream_of)
                figures["rows_per_s"] = round(args.accounts / figures["seconds"])
                figures["ratio_to_baseline"] = round(figures["seconds"] / read, 1)
                figures["peak_python_mib"] = peak_memory(stream_of)
                results[f"{kind}_{format}"] = figures
                print(
                    f"{kind} {format}: first rows after {figures['first_rows_s']} s, all "
                    f"{args.accounts:,} in {figures['seconds']} s ({figures['rows_per_s']:,} "
                    f"rows/s, CPU {figures['cpu_seconds']} s), {figures['bytes'] / 2**20:.1f} MiB "
                    f"in {figures['chunks']:,} chunks, {figures['queries']} queries, peak "
                    f"{figures['peak_python_mib']} MiB of Python memory",
                    flush=True,
                )
    database = "postgresql" if population.is_postgres() else "sqlite"
    version = connection.pg_version if population.is_postgres() else connection.Database.sqlite_version
    print(
        json.dumps(
            {
                "database": database,
                "version": version,
                "accounts": args.accounts,
                "baseline_s": read,
                "exports": results,
            }
        )
    )


if __name__ == "__main__":
    main()
