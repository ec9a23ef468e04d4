"""Benchmark: rollup catch-up over a large backlog of events, against a one-pass floor.

Fills the event log of a workspace with 100,000 accounts and 400,000 end users with 10
million events over the last 90 days, in the order they happened (sessions of a few
events by one end user; a few busy accounts and many quiet ones; quiet weekends), none
counted yet — as after a long outage or a bulk import of history — then runs
``tend.usage.rollups.roll_up()`` in a fresh process and reports its wall time and peak
memory (the goal: ≤ 60 s and ≤ 2 GB). In the same run it times the database's floor for one
pass: a single ``GROUP BY account, day`` over the same events into a temporary table.

    .venv/bin/python bench/rollup.py                          # SQLite under bench/out-rollup
    .venv/bin/python bench/rollup.py --events 1000000 --accounts 10000   # a quick run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/rollup.py
    .venv/bin/python bench/rollup.py --reuse --profile        # profile the rollup only

The last line printed is one JSON object with the figures.
"""

import argparse
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / "out-rollup"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TEND_DATA_DIR", str(DATA_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")

SEED = 20261129
MODULES = {
    "Dashboards": ["Viewed dashboard", "Created dashboard", "Shared dashboard"],
    "Reports": ["Ran report", "Exported report", "Scheduled report"],
    "Alerts": ["Created alert", "Acknowledged alert"],
    "Integrations": ["Connected integration", "Synced data"],
    "Admin": ["Invited user", "Changed settings"],
    "": ["Logged in"],
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--users-per-account", type=int, default=4)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the filled database; reset the rollups only"
    )
    parser.add_argument("--profile", action="store_true", help="run the rollup under pyinstrument")
    parser.add_argument("--rollup-only", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'tend.sqlite3'}"


def fill(args) -> None:
    """A workspace, its accounts and end users, and the events, written as fast as possible
    (bulk statements; this is the set-up, not what is measured)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from tend.accounts.models import Account, EndUser
    from tend.lib.dates import to_ms
    from tend.usage.ingest.store import EVENT_COLUMNS, insert_events
    from tend.workspaces.models import Workspace

    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    started = time.perf_counter()
    with scopes_disabled():
        Workspace.objects.filter(slug="bench-rollup").delete()
        ws = Workspace.objects.create(name="Bench rollup", slug="bench-rollup")
        Account.objects.bulk_create(
            (
                Account(workspace=ws, external_id=f"acct-{i}", name=f"Company {i}", status="paying")
                for i in range(args.accounts)
            ),
            batch_size=5000,
        )
        account_ids = list(
            Account.objects.filter(workspace=ws).order_by("id").values_list("id", flat=True)
        )
        users = args.accounts * args.users_per_account
        EndUser.objects.bulk_create(
            (
                EndUser(
                    workspace=ws, external_id=f"user-{i}", account_id=account_ids[i % args.accounts]
                )
                for i in range(users)
            ),
            batch_size=5000,
        )
        user_ids = list(
            EndUser.objects.filter(workspace=ws).order_by("id").values_list("id", flat=True)
        )
    print(
        f"{args.accounts:,} accounts and {users:,} end users in {time.perf_counter() - started:.0f} s",
        flush=True,
    )

    # Events arrive as they happen — day by day, in sessions — as a backlog does after an
    # outage: a session is one end user doing a handful of things in one or two modules.
    # Busy accounts (a Pareto draw) have far more sessions than quiet ones; a few users of an
    # account do most of its work; weekends are quiet.
    cumulative = list(itertools.accumulate(rng.paretovariate(1.2) for _ in range(args.accounts)))
    now_ms = to_ms(timezone.now())
    day_ms = 86_400_000
    today = now_ms // day_ms
    per_day = args.events / 90
    assert EVENT_COLUMNS[:6] == (
        "workspace_id",
        "account_id",
        "end_user_id",
        "ts",
        "activity",
        "module",
    )
    started = time.perf_counter()
    written = 0
    for day in range(today - 89, today + 1):
        weekend = (day + 4) % 7 in (5, 6)
        target = min(args.events - written, round(per_day * (0.35 if weekend else 1.16)))
        if day == today:
            target = args.events - written
        rows = []
        while len(rows) < target:
            a = rng.choices(range(args.accounts), cum_weights=cumulative)[0]
            heavy = rng.random() < 0.6
            user = user_ids[
                a + args.accounts * (0 if heavy else rng.randrange(args.users_per_account))
            ]
            modules = rng.sample(list(MODULES), 2)
            ts = day * day_ms + rng.randrange(8 * 3600_000, 18 * 3600_000)
            for _ in range(min(target - len(rows), 1 + int(rng.expovariate(1 / 9)))):
                module = modules[0] if rng.random() < 0.7 else modules[1]
                activity = rng.choice(MODULES[module])
                ts = min(ts + rng.randrange(5_000, 120_000), now_ms)
                rows.append(
                    (ws.id, account_ids[a], user, ts, activity, module, None, None, "api", "")
                )
        for offset in range(0, len(rows), 200_000):
            with transaction.atomic():
                insert_events(rows[offset : offset + 200_000])
        written += len(rows)
        if (day - today) % 15 == 0:
            print(
                f"  {written:,} events ({written / (time.perf_counter() - started):,.0f}/s)",
                flush=True,
            )
    # Fresh tables have no planner statistics; production's autovacuum would have them.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()


def reset_rollups() -> None:
    import django

    django.setup()
    from django.db import connection

    from tend.usage.models import (
        AccountActivityDay,
        AccountDay,
        AccountUsage,
        RollupState,
        UserDay,
        UserUsage,
    )

    with connection.cursor() as cursor:
        for model in (
            AccountDay,
            AccountActivityDay,
            UserDay,
            AccountUsage,
            UserUsage,
            RollupState,
        ):
            # TRUNCATE on PostgreSQL: DELETE would leave the tables bloated for the run measured.
            verb = "TRUNCATE" if connection.vendor == "postgresql" else "DELETE FROM"
            cursor.execute(f"{verb} {model._meta.db_table}")
    connection.close()


def floor_seconds() -> float:
    """One pass of the database over the events: GROUP BY account and day into a temp table."""
    import django

    django.setup()
    from django.db import connection, transaction

    from tend.usage.models import UsageEvent

    table = UsageEvent._meta.db_table
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE bench_floor AS SELECT account_id, ts / 86400000 AS day, COUNT(*) AS n "  # noqa: S608
            f"FROM {table} GROUP BY 1, 2"
        )
        cursor.execute("DROP TABLE bench_floor")
    return time.perf_counter() - started


def rollup_in_this_process(profile: bool) -> None:
    """Run in a child process so that its peak memory is the rollup's own."""
    import resource

    import django

    django.setup()
    from django.db import connection

    from tend.usage import rollups

    started = time.perf_counter()
    if profile:
        from pyinstrument import Profiler

        with Profiler(interval=0.01) as profiler:
            result = rollups.roll_up()
        print(profiler.output_text(unicode=True), file=sys.stderr)
    else:
        result = rollups.roll_up()
    seconds = time.perf_counter() - started
    connection.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": round(seconds, 1),
                "peak_mb": round(peak_mb),
                "events": result.events,
                "chunks": result.chunks,
                "accounts_refreshed": result.accounts_refreshed,
                "users_refreshed": result.users_refreshed,
            }
        )
    )


def main():
    args = parse_args()
    if args.rollup_only:
        rollup_in_this_process(args.profile)
        return
    if not args.reuse:
        if not os.environ.get("DATABASE_URL"):
            shutil.rmtree(DATA_DIR, ignore_errors=True)
            DATA_DIR.mkdir(parents=True)
        fill(args)
    else:
        reset_rollups()
    floor = floor_seconds()
    print(f"floor: one GROUP BY pass over the events in {floor:.1f} s", flush=True)
    child = subprocess.run(
        [sys.executable, __file__, "--rollup-only", *(["--profile"] if args.profile else [])],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        raise SystemExit(child.stderr[-3000:])
    if args.profile:
        print(child.stderr[-12000:])
    rollup = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"rollup: {rollup['events']:,} events in {rollup['seconds']} s, peak {rollup['peak_mb']} MB; "
        f"{rollup['accounts_refreshed']:,} accounts and {rollup['users_refreshed']:,} end users refreshed",
        flush=True,
    )
    figures = {
        "database": "postgresql" if database_url().startswith("postgres") else "sqlite",
        "events": args.events,
        "accounts": args.accounts,
        "end_users": args.accounts * args.users_per_account,
        "rollup": rollup,
        "floor_seconds": round(floor, 1),
        "ratio_to_floor": round(rollup["seconds"] / floor, 1) if floor else None,
        "goal": {"seconds": 60, "peak_mb": 2048},
        "meets_goal": rollup["seconds"] <= 60
        and rollup["peak_mb"] <= 2048
        and rollup["events"] == args.events,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
