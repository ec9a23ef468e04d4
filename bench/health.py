"""Benchmark: a full rebuild of usage metrics and health, and the live preview's latency.

Set-up (not measured): the workspace of ``bench/rollup.py`` — 100,000 accounts, 400,000 end
users, 10 million events over 90 days — with the events counted into the rollups; a fifth
of the accounts made trials and a tenth free; two health profiles: the classic rule (the
default) and a weighted profile over four usage metrics for accounts with three or more
active users in 30 days (a condition, so assignment runs its query).

(a) **Full rebuild**, in a fresh process so that its peak memory is its own: every account's
    and end user's usage metrics recomputed from the rollups (``tend.usage.rollups.refresh``
    with every row dirty), then every account scored and stored from nothing
    (``score_workspace`` with no health stored). Goal: ≤ 15 s (stretch 5 s), ≤ 4 GB.
    The floor, in the same run: the same window sums, active users and user windows
    computed with Polars straight from the day tables held in memory, plus the same two
    profiles scored with the pure scorer — what the rebuild would cost with no database.
(b) **Preview**: 100 ``POST /api/v1/health/profiles/{id}/preview`` requests through the
    whole HTTP stack (Django's test client: routing, middleware, token auth, Ninja, orjson),
    each with a different draft of the default profile (its bounds moved). The first one
    reads the inputs into the per-process cache; it is counted. Goal: p95 ≤ 100 ms.

    .venv/bin/python bench/health.py                    # SQLite under bench/out-health
    .venv/bin/python bench/health.py --reuse            # keep the filled, counted database
    .venv/bin/python bench/health.py --events 1000000 --accounts 10000    # a quick run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_health .venv/bin/python bench/health.py

The last line printed is one JSON object with the figures.
"""

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / "out-health"
sys.path.insert(0, str(ROOT))
# Before bench/rollup.py is imported: it defaults the data directory to its own.
os.environ.setdefault("TEND_DATA_DIR", str(DATA_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")

SLUG = "bench-rollup"  # the workspace bench/rollup.py fills
PREVIEWS = 100
GOALS = {
    "rebuild_seconds": 15,
    "rebuild_stretch_seconds": 5,
    "peak_mb": 4096,
    "preview_p95_ms": 100,
}
ENGAGED = {"all": [{"field": "usage.active_users_30d", "op": "gte", "value": 3}]}
WEIGHTED = {
    "kind": "weighted",
    "dimensions": [
        {
            "key": "adoption",
            "label": "Adoption",
            "weight": 60,
            "metrics": [
                {"source": "usage.active_days_14d", "weight": 50, "good": 6, "poor": 2, "missing": "poor"},
                {"source": "usage.active_users_14d", "weight": 50, "good": 3, "poor": 1},
            ],
        },
        {
            "key": "activity",
            "label": "Activity",
            "weight": 40,
            "metrics": [
                {"source": "usage.events_30d", "weight": 60, "grading": "linear", "low": 0, "high": 400},
                {
                    "source": "usage.visit_frequency",
                    "weight": 40,
                    "grading": "categories",
                    "categories": {"daily": "good", "weekly": "good", "occasionally": "average", "inactive": "poor"},
                },
            ],
        },
    ],
}  # fmt: skip


def load_rollup_bench():
    spec = importlib.util.spec_from_file_location("bench_rollup", ROOT / "bench" / "rollup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--users-per-account", type=int, default=4)
    parser.add_argument("--reuse", action="store_true", help="keep the filled, counted database")
    parser.add_argument("--profile", action="store_true", help="run the rebuild under pyinstrument")
    parser.add_argument("--rebuild-only", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'tend.sqlite3'}"


# --- set-up ----------------------------------------------------------------------------------


def set_up(args) -> None:
    """Fill (bench/rollup.py), count the events, vary statuses, add the profiles."""
    rollup_bench = load_rollup_bench()
    rollup_bench.fill(args)
    import django

    django.setup()
    from django.db import connection
    from django_scopes import scopes_disabled

    from tend.accounts.models import Account
    from tend.usage.rollups import roll_up

    started = time.perf_counter()
    result = roll_up()
    print(
        f"counted {result.events:,} events into the rollups in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    with scopes_disabled():
        workspace = workspace_of()
        table = Account._meta.db_table
        with connection.cursor() as cursor:
            # Every fifth account a trial and every tenth (of the rest) free: paying and
            # all accounts differ in the preview, as in a real workspace.
            # Only the table name from _meta is formatted in.
            trial = f"UPDATE {table} SET status = 'trial' WHERE workspace_id = %s AND id %% 5 = 0"  # noqa: S608
            free = (
                f"UPDATE {table} SET status = 'free' "  # noqa: S608
                "WHERE workspace_id = %s AND id %% 5 <> 0 AND id %% 10 = 1"
            )
            cursor.execute(trial, [workspace.pk])
            cursor.execute(free, [workspace.pk])
        add_profiles(workspace)
    connection.close()


def workspace_of():
    from tend.workspaces.models import Workspace

    return Workspace.objects.get(slug=SLUG)


def add_profiles(workspace) -> None:
    from tend.health.actions.profiles import create_profile, ensure_default_profile
    from tend.health.models import HealthProfile
    from tend.workspaces.access import system_actor

    ensure_default_profile(workspace)
    if not HealthProfile.objects.filter(workspace=workspace, name="Engaged accounts").exists():
        create_profile(
            system_actor(workspace),
            {"name": "Engaged accounts", "condition": ENGAGED, "definition": WEIGHTED},
        )


def reset_for_rebuild(keep_health: bool = False) -> None:
    """Every metrics row dirty (as the roll-forward at midnight makes them) and, unless
    ``keep_health``, no health stored: what the rebuild starts from."""
    import django

    django.setup()
    from django.db import connection, transaction
    from django.db.models import F
    from django_scopes import scopes_disabled

    from tend.health.models import AccountHealth, HealthChange, HealthSnapshot, HealthState
    from tend.usage.models import AccountUsage, UserUsage

    health = (AccountHealth, HealthSnapshot, HealthChange, HealthState)
    # PostgreSQL: the tables as autovacuum leaves them between two nightly runs (this server
    # runs without it, and each run leaves a dead version of every row it rewrote).
    vacuum(AccountUsage, UserUsage)
    with scopes_disabled(), transaction.atomic():
        workspace = workspace_of()
        for model in health:
            if not keep_health:
                model.objects.filter(workspace=workspace)._raw_delete(model.objects.db)
        AccountUsage.objects.filter(workspace=workspace).update(dirty=F("dirty") + 1)
        UserUsage.objects.filter(workspace=workspace).update(dirty=F("dirty") + 1)
    vacuum(*health)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()


def vacuum(*models) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {', '.join(q(model._meta.db_table) for model in models)}")


# --- (a) the rebuild, in a child process -----------------------------------------------------


def rebuild_in_this_process(profile: bool) -> None:
    import resource

    import django

    django.setup()
    from django.db import connection
    from django_scopes import scopes_disabled

    from tend.health.actions.scoring import score_workspace
    from tend.usage.rollups import refresh

    with scopes_disabled():
        workspace = workspace_of()

        def run():
            started = time.perf_counter()
            accounts, users = refresh(workspace)
            metrics = time.perf_counter() - started
            scored = score_workspace(workspace)
            return accounts, users, metrics, scored, time.perf_counter() - started

        if profile:
            from pyinstrument import Profiler

            with Profiler(interval=0.01) as profiler:
                accounts, users, metrics, scored, seconds = run()
            print(profiler.output_text(unicode=True), file=sys.stderr)
        else:
            accounts, users, metrics, scored, seconds = run()
    connection.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "metrics_seconds": round(metrics, 2),
                "health_seconds": round(seconds - metrics, 2),
                "peak_mb": round(peak_mb),
                "accounts_refreshed": accounts,
                "users_refreshed": users,
                "accounts_scored": scored.accounts,
                "health_rows_written": scored.changed,
                "distribution": scored.distribution,
            }
        )
    )


# --- the floor: the same figures from arrays in memory ----------------------------------------


def floor_seconds() -> dict:
    """Read the day tables into memory (not timed), then time Polars computing the window
    sums and active users per account and per end user, and the scorer scoring both profiles."""
    import django

    django.setup()
    import numpy as np
    import polars as pl
    from django.db import connection
    from django_scopes import scopes_disabled

    from tend.health import scoring
    from tend.health.actions.profiles import CLASSIC_DEFINITION
    from tend.lib.dates import today, zone
    from tend.usage.models import AccountDay, UserDay

    with scopes_disabled():
        workspace = workspace_of()
        t = today(zone(workspace.time_zone))
        q = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT account_id, day, events, seconds FROM {q(AccountDay._meta.db_table)} "  # noqa: S608
                "WHERE workspace_id = %s AND day > %s",
                [workspace.pk, t - 90],
            )
            account_rows = cursor.fetchall()
            cursor.execute(
                f"SELECT account_id, end_user_id, day, events, seconds FROM {q(UserDay._meta.db_table)} "  # noqa: S608
                "WHERE workspace_id = %s AND day > %s",
                [workspace.pk, t - 90],
            )
            user_rows = cursor.fetchall()
    connection.close()
    days = pl.DataFrame(account_rows, schema=["a", "d", "e", "s"], orient="row")
    users = pl.DataFrame(user_rows, schema=["a", "u", "d", "e", "s"], orient="row")
    del account_rows, user_rows

    def windows(frame, key):
        d, e, s = pl.col("d"), pl.col("e"), pl.col("s")
        return frame.group_by(key).agg(
            e.filter(d == t).sum().alias("events_today"),
            e.filter(d == t - 1).sum().alias("events_yesterday"),
            *(e.filter(d > t - n).sum().alias(f"events_{n}d") for n in (3, 7, 14, 30, 90)),
            s.filter(d > t - 7).sum().alias("seconds_7d"),
            s.filter(d > t - 30).sum().alias("seconds_30d"),
            d.filter((d > t - 14) & (e > 0)).n_unique().alias("active_days_14d"),
        )

    started = time.perf_counter()
    account_metrics = windows(days, "a")
    user_metrics = windows(users, "u")
    recent = users.filter(pl.col("d") > t - 30)
    active = recent.group_by("a").agg(
        *(
            pl.col("u").filter(pl.col("d") > t - n).n_unique().alias(f"active_users_{n}d")
            for n in (7, 14, 30)
        )
    )
    metrics = account_metrics.join(active, on="a", how="left").sort("a")
    metrics_seconds = time.perf_counter() - started

    started = time.perf_counter()
    n = metrics.height
    frequency = np.where(
        metrics["active_days_14d"].to_numpy() >= 4, "weekly", "occasionally"
    ).astype(object)
    inputs = {
        "usage.active_days_14d": metrics["active_days_14d"].to_numpy().astype(float),
        "usage.active_users_14d": metrics["active_users_14d"].fill_null(0).to_numpy().astype(float),
        "usage.events_30d": metrics["events_30d"].to_numpy().astype(float),
        "usage.visit_frequency": frequency,
    }
    engaged = metrics["active_users_30d"].fill_null(0).to_numpy() >= 3
    classic = scoring.parse_definition(CLASSIC_DEFINITION)
    weighted = scoring.parse_definition(WEIGHTED)
    scoring.score(classic, {k: v[~engaged] for k, v in inputs.items()})
    scoring.score(weighted, {k: v[engaged] for k, v in inputs.items()})
    health_seconds = time.perf_counter() - started
    return {
        "seconds": round(metrics_seconds + health_seconds, 3),
        "metrics_seconds": round(metrics_seconds, 3),
        "health_seconds": round(health_seconds, 3),
        "accounts": n,
        "users": user_metrics.height,
    }


# --- (b) the preview through the HTTP stack ---------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def preview_latency() -> dict:
    import django

    django.setup()
    import orjson
    from django.test import Client
    from django_scopes import scopes_disabled

    from tend.health.actions.profiles import CLASSIC_DEFINITION
    from tend.health.models import HealthProfile
    from tend.test import make_token

    with scopes_disabled():
        workspace = workspace_of()
        profile = HealthProfile.objects.get(workspace=workspace, is_default=True)
    token = make_token(workspace, ("read", "admin"), name="bench preview")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="localhost")
    url = f"/api/v1/health/profiles/{profile.pk}/preview"
    base = CLASSIC_DEFINITION["metrics"][0]
    times, changed = [], []
    for i in range(PREVIEWS):
        # A person dragging bounds about: good 3 … 9 active days, poor 1 … 2.
        draft = {"kind": "rules", "metrics": [{**base, "good": 3 + i % 7, "poor": 1 + i % 2}]}
        body = orjson.dumps({"definition": draft})
        started = time.perf_counter()
        response = client.post(url, body, content_type="application/json")
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"preview failed: {response.status_code} {response.content[:300]!r}")
        changed.append(orjson.loads(response.content)["changed_rank"])
    return {
        "requests": PREVIEWS,
        "first_ms": round(times[0] * 1000, 1),
        "p50_ms": round(percentile(times, 0.5) * 1000, 1),
        "p95_ms": round(percentile(times, 0.95) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "changed_rank_range": [min(changed), max(changed)],
    }


def rebuild_in_a_child(profile: bool) -> dict:
    child = subprocess.run(
        [sys.executable, __file__, "--rebuild-only", *(["--profile"] if profile else [])],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        raise SystemExit(child.stderr[-3000:])
    if profile:
        print(child.stderr[-15000:])
    return json.loads(child.stdout.strip().splitlines()[-1])


def main():
    args = parse_args()
    if args.rebuild_only:
        rebuild_in_this_process(args.profile)
        return
    if not args.reuse:
        if not os.environ.get("DATABASE_URL"):
            shutil.rmtree(DATA_DIR, ignore_errors=True)
            DATA_DIR.mkdir(parents=True)
        set_up(args)
    reset_for_rebuild()
    rebuild = rebuild_in_a_child(args.profile)
    print(
        f"rebuild: {rebuild['seconds']} s (usage metrics {rebuild['metrics_seconds']} s for "
        f"{rebuild['accounts_refreshed']:,} accounts and {rebuild['users_refreshed']:,} end users; "
        f"health {rebuild['health_seconds']} s for {rebuild['accounts_scored']:,} accounts), "
        f"peak {rebuild['peak_mb']} MB",
        flush=True,
    )
    # The same again with health already stored: what a nightly rebuild costs, where only
    # the accounts whose health changed are written.
    reset_for_rebuild(keep_health=True)
    again = rebuild_in_a_child(False)
    print(
        f"rebuild with health stored: {again['seconds']} s (health {again['health_seconds']} s, "
        f"{again['health_rows_written']:,} rows written), peak {again['peak_mb']} MB",
        flush=True,
    )
    floor = floor_seconds()
    print(
        f"floor: Polars on arrays in memory {floor['seconds']} s (metrics {floor['metrics_seconds']} s, "
        f"scoring {floor['health_seconds']} s)",
        flush=True,
    )
    preview = preview_latency()
    print(
        f"preview: {preview['requests']} requests, first {preview['first_ms']} ms, p50 "
        f"{preview['p50_ms']} ms, p95 {preview['p95_ms']} ms, max {preview['max_ms']} ms",
        flush=True,
    )
    figures = {
        "database": "postgresql" if database_url().startswith("postgres") else "sqlite",
        "events": args.events,
        "accounts": args.accounts,
        "end_users": args.accounts * args.users_per_account,
        "rebuild": rebuild,
        "rebuild_with_health_stored": again,
        "floor": floor,
        "ratio_to_floor": round(rebuild["seconds"] / floor["seconds"], 1)
        if floor["seconds"]
        else None,
        "preview": preview,
        "goal": GOALS,
        "meets_goal": rebuild["seconds"] <= GOALS["rebuild_seconds"]
        and rebuild["peak_mb"] <= GOALS["peak_mb"]
        and preview["p95_ms"] <= GOALS["preview_p95_ms"],
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
