"""Benchmark: custom metrics' latest values and active-user change filters over a workspace.

Set-up (not measured): a workspace of 100,000 accounts (``--accounts``) written with raw bulk
statements (executemany on SQLite, COPY on PostgreSQL), each with a custom metric
``api_calls`` sent daily for the last 60 days (``--days``) — 6,000,000 ``MetricValue`` rows —
1 % of them with a value sent ahead for tomorrow; a usage row per account; and ``UserDay``
rows over the same days (each account has 1–4 end users, each active on about 30 % of
days). The accounts' ``MetricLatest`` rows are then filled by the migration's own SQL
(``0004``), which is timed.

Measured, each against a baseline in the same run:

(a) ``metrics.api_calls gt 500`` counted as a segment does (catalog, compile, ``count()``);
    baseline: the same count through the previous definition of the field, an anti-join
    (``NOT EXISTS`` a later value up to today) over the series.
(b) ``metrics.api_calls changed_by_pct -20 over 7 days``: now and then from the latest rows
    (the value then read from the series per account); baseline: the previous relation,
    two anti-joins joined.
(c) a five-predicate condition with both metric clauses, the status, ``usage.events_7d``
    and ``usage.active_users_7d changed_by -1 over 30 days``; baseline: ``count(*)`` of the
    workspace's accounts.
(d) ``usage.active_users_7d changed_by -1 over 30 days`` with ``UserDay``'s
    ``(workspace, day)`` index, and without it (dropped inside a transaction rolled back);
    and what the index costs inserting a day of user days.
(e) health's custom-metric source, aggregate ``latest`` over 30 days, for every account;
    baseline: the previous read of the window's whole series.
(f) writing a day of values: 5,000 values through ``ingest`` (corrections of today), with
    the time of the merge into the latest rows beside the series' own upsert (the
    baseline); and moving the 1 % of rows whose value sent ahead becomes current (the
    rollup job's ``advance_latest_values`` tomorrow).

    .venv/bin/python bench/metrics.py                          # SQLite, 100,000 accounts
    .venv/bin/python bench/metrics.py --reuse                  # keep the filled database
    .venv/bin/python bench/metrics.py --reuse --explain        # print the query plans
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_metrics .venv/bin/python bench/metrics.py

The last line printed is one JSON object with the figures.
"""

import argparse
import datetime
import importlib
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / "out-metrics"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TEND_DATA_DIR", str(DATA_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")

SEED = 20261130
SLUG = "bench-metrics"
METRIC = "api_calls"
LATEST = {"field": f"metrics.{METRIC}", "op": "gt", "value": 500}
CHANGE = {"field": f"metrics.{METRIC}", "op": "changed_by_pct", "value": -20, "days": 7}
USERS = {"field": "usage.active_users_7d", "op": "changed_by", "value": -1, "days": 30}
FIVE = {
    "all": [
        {"field": "status", "op": "eq", "value": "paying"},
        LATEST,
        CHANGE,
        {"field": "usage.events_7d", "op": "lt", "value": 50},
        USERS,
    ]
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each new query")
    parser.add_argument("--baseline-runs", type=int, default=3, help="timed runs of old queries")
    parser.add_argument("--reuse", action="store_true", help="keep the filled database")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    return parser.parse_args()


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'tend.sqlite3'}"


def is_postgres() -> bool:
    return database_url().startswith("postgres")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# --- set-up ------------------------------------------------------------------------------------


def _insert(table: str, columns: tuple[str, ...], rows) -> None:
    from django.db import connection

    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if is_postgres():
            # COPY: the fastest way into PostgreSQL (a set-up, not what is measured).
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) == 100_000:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)


def fill(n: int, days: int) -> dict:
    import django

    django.setup()
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Max
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from tend.accounts.models import Account
    from tend.lib.dates import to_ms, today, zone
    from tend.usage.models import AccountUsage, Metric, MetricValue, UserDay
    from tend.workspaces.models import Workspace

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    rng = random.Random(SEED)
    with scopes_disabled():
        Workspace.objects.filter(slug=SLUG).delete()
        ws = Workspace.objects.create(name="Bench metrics", slug=SLUG)
        metric = Metric.objects.create(workspace=ws, key=METRIC, label="API calls")
        first_id = (Account.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    now = timezone.now()
    t = today(zone(ws.time_zone), now)
    stamp = now if is_postgres() else connection.ops.adapt_datetimefield_value(now)
    statuses = ["paying"] * 6 + ["trial"] * 2 + ["free", "churned"]
    accounts = [
        (
            first_id + i,
            ws.pk,
            f"acct-{i:06d}",
            f"Company {i:06d}",
            rng.choice(statuses),
            "{}",
            stamp,
            stamp,
        )
        for i in range(n)
    ]
    first_seen = to_ms(now - datetime.timedelta(days=days))

    def values():
        for i in range(n):
            level = rng.uniform(50, 1500)
            for day in range(t - days + 1, t + 1):
                level = max(0.0, level * rng.uniform(0.85, 1.15))
                yield (ws.pk, first_id + i, metric.pk, day, round(level, 1), stamp)
            if i % 100 == 0:
                yield (ws.pk, first_id + i, metric.pk, t + 1, round(level, 1), stamp)

    user_days = [0]

    def users():
        user = 0
        for i in range(n):
            for _ in range(rng.randint(1, 4)):
                user += 1
                for day in range(t - days + 1, t + 1):
                    if rng.random() < 0.3:
                        user_days[0] += 1
                        yield (ws.pk, first_id + i, user, day, rng.randint(1, 20), 0.0)

    usage = [
        (first_id + i, ws.pk, rng.randint(0, 120), first_seen, first_seen, 0) for i in range(n)
    ]
    with transaction.atomic():
        _insert(
            Account._meta.db_table,
            (
                "id",
                "workspace_id",
                "external_id",
                "name",
                "status",
                "attributes",
                "created_at",
                "updated_at",
            ),
            accounts,
        )
        _insert(
            AccountUsage._meta.db_table,
            ("account_id", "workspace_id", "events_7d", "first_seen_ms", "last_seen_ms", "dirty"),
            usage,
        )
        _insert(
            MetricValue._meta.db_table,
            ("workspace_id", "account_id", "metric_id", "day", "value", "updated_at"),
            values(),
        )
        _insert(
            UserDay._meta.db_table,
            ("workspace_id", "account_id", "end_user_id", "day", "events", "seconds"),
            users(),
        )
        if is_postgres():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                    [Account._meta.db_table, first_id + n],
                )
    filled = time.perf_counter() - started
    # The migration's data step, as it runs on an upgrade.
    migration = importlib.import_module(
        "tend.usage.migrations.0004_metric_latest_and_user_day_index"
    )
    started = time.perf_counter()
    with transaction.atomic():
        migration.fill_latest_values(apps, SimpleNamespace(connection=connection))
    migrated = time.perf_counter() - started
    with connection.cursor() as cursor:
        # Fresh tables have no planner statistics; production's autovacuum would have them.
        cursor.execute("ANALYZE" if not is_postgres() else "VACUUM ANALYZE")
    print(
        f"{n:,} accounts, {n * days + n // 100:,} metric values, {user_days[0]:,} user days in "
        f"{filled:.0f} s; latest rows filled (migration 0004) in {migrated:.1f} s",
        flush=True,
    )
    connection.close()
    return {"migration_fill_s": round(migrated, 2)}


# --- the previous definitions, for the baselines -----------------------------------------------


def anti_join_latest(workspace_id: int, metric_id: int, day: int):
    """The latest value up to ``day`` as ``metrics.<key>`` read it before the latest rows."""
    from django.db.models import Exists, OuterRef

    from tend.usage.models import MetricValue

    later = MetricValue.objects.filter(
        metric_id=metric_id,
        account_id=OuterRef("account_id"),
        day__gt=OuterRef("day"),
        day__lte=day,
    )
    return MetricValue.objects.filter(
        workspace_id=workspace_id, metric_id=metric_id, day__lte=day
    ).filter(~Exists(later))


def anti_join_change_count(workspace, metric, today: int) -> int:
    """(b)'s count with the previous relation: two anti-joins joined."""
    from django.db import connection

    from tend.accounts.models import Account
    from tend.lib.conditions.compiling import change_condition

    def latest(on):
        return (
            anti_join_latest(workspace.pk, metric.pk, on)
            .values("account_id", "value")
            .query.sql_with_params()
        )

    now_sql, now_params = latest(today)
    then_sql, then_params = latest(today - CHANGE["days"])
    test, test_params = change_condition(CHANGE["op"], CHANGE["value"])
    table = connection.ops.quote_name(Account._meta.db_table)
    sql = (
        f"SELECT count(*) FROM {table} a WHERE a.workspace_id = %s AND a.id IN ("  # noqa: S608
        "SELECT r.id FROM (SELECT n.account_id AS id, n.value AS now_value, p.value AS then_value "
        f"FROM ({now_sql}) n JOIN ({then_sql}) p ON p.account_id = n.account_id) r "
        f"WHERE r.now_value IS NOT NULL AND r.then_value IS NOT NULL AND {test})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [workspace.pk, *now_params, *then_params, *test_params])
        return cursor.fetchone()[0]


def window_latest(metric_id: int, day: int, days: int) -> dict:
    """(e)'s baseline: the health source's previous read of "latest" over a window."""
    from tend.usage.models import MetricValue

    latest = {}
    for account_id, value in (
        MetricValue.objects.filter(metric_id=metric_id, day__gt=day - days, day__lte=day)
        .order_by("day")
        .values_list("account_id", "value")
    ):
        latest[account_id] = value
    return latest


# --- measuring ---------------------------------------------------------------------------------


def timed(function, runs: int) -> tuple[dict, object]:
    function()  # warm: every figure is taken warm
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - started)
    return {"p50_ms": ms(percentile(seconds, 0.5)), "p95_ms": ms(percentile(seconds, 0.95))}, result


def compare(name: str, new, old, runs: int, baseline_runs: int, baseline_name: str) -> dict:
    new_times, new_result = timed(new, runs)
    old_times, old_result = timed(old, baseline_runs)
    figures = {
        "result": new_result if isinstance(new_result, int) else len(new_result),
        "new": new_times,
        baseline_name: old_times,
        "ratio_p50": round(new_times["p50_ms"] / max(old_times["p50_ms"], 0.01), 3),
    }
    if isinstance(new_result, int) and baseline_name == "before":
        assert new_result == old_result, (name, new_result, old_result)
    print(
        f"{name}: p50 {new_times['p50_ms']} ms, p95 {new_times['p95_ms']} ms; {baseline_name} p50 "
        f"{old_times['p50_ms']} ms, p95 {old_times['p95_ms']} ms ({figures['ratio_p50']}x)",
        flush=True,
    )
    return figures


def user_day_insert_cost(workspace, t: int, index: str, runs: int) -> dict:
    """What the index costs the rollup: a day's ``UserDay`` rows (today's, copied to
    tomorrow) inserted with and without it, each in a transaction rolled back."""
    from django.db import connection, transaction

    from tend.usage.models import UserDay

    table = connection.ops.quote_name(UserDay._meta.db_table)
    columns = "workspace_id, account_id, end_user_id, day, events, seconds"
    copy = (
        f"INSERT INTO {table} ({columns}) SELECT workspace_id, account_id, end_user_id, "  # noqa: S608
        f"day + 1, events, seconds FROM {table} WHERE workspace_id = %s AND day = %s"
    )

    def insert(drop: bool) -> tuple[float, int]:
        with transaction.atomic():
            with connection.cursor() as cursor:
                if drop:
                    cursor.execute(f"DROP INDEX {index}")
                started = time.perf_counter()
                cursor.execute(copy, [workspace.pk, t])
                seconds, rows = time.perf_counter() - started, cursor.rowcount
            transaction.set_rollback(True)
        return seconds, rows

    with_index = [insert(False) for _ in range(runs + 1)][1:]
    without = [insert(True) for _ in range(runs + 1)][1:]
    rows = with_index[0][1]
    figures = {
        "rows": rows,
        "with_index_ms": ms(percentile([s for s, _ in with_index], 0.5)),
        "without_index_ms": ms(percentile([s for s, _ in without], 0.5)),
    }
    print(
        f"(d) inserting a day of {rows:,} user days: {figures['with_index_ms']} ms with the index, "
        f"{figures['without_index_ms']} ms without",
        flush=True,
    )
    return figures


def measure(args) -> dict:
    import numpy as np
    from django.db import connection, transaction
    from django.utils import timezone

    from tend.accounts.conditions import account_catalog, matching_accounts
    from tend.accounts.models import Account
    from tend.health.scoring import MetricRule
    from tend.health.sources import CustomMetricSource
    from tend.lib.dates import today, zone
    from tend.usage.actions import metrics as metric_actions
    from tend.usage.actions.ingest import ingest
    from tend.usage.ingest.facts import Intake, MetricFact
    from tend.usage.models import Metric, MetricLatest, Source
    from tend.workspaces.models import Workspace

    workspace = Workspace.objects.get(slug=SLUG)
    metric = Metric.objects.get(workspace=workspace, key=METRIC)
    t = today(zone(workspace.time_zone))
    accounts = Account.objects.filter(workspace=workspace)
    figures = {}

    def count(condition):
        return lambda: matching_accounts(
            workspace, condition, catalog=account_catalog(workspace)
        ).count()

    def old_latest_count():
        rows = anti_join_latest(workspace.pk, metric.pk, t).filter(value__gt=LATEST["value"])
        return accounts.filter(pk__in=rows.values("account_id")).count()

    if args.explain:
        for condition in (LATEST, CHANGE, USERS):
            print(
                condition,
                matching_accounts(workspace, condition).explain(
                    **({"analyze": True} if is_postgres() else {})
                ),
                sep="\n",
                flush=True,
            )

    figures["latest"] = compare(
        "(a) metrics.api_calls gt 500",
        count(LATEST),
        old_latest_count,
        args.runs,
        args.baseline_runs,
        "before",
    )
    figures["change"] = compare(
        "(b) metrics.api_calls changed_by_pct -20 over 7 days",
        count(CHANGE),
        lambda: anti_join_change_count(workspace, metric, t),
        args.runs,
        args.baseline_runs,
        "before",
    )
    figures["five"] = compare(
        "(c) five predicates", count(FIVE), accounts.count, args.runs, args.runs, "count(*)"
    )

    index = connection.ops.quote_name("usage_user_day_ws")

    def without_index():
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"DROP INDEX {index}")
            if args.explain:
                print(
                    "without the index:",
                    matching_accounts(workspace, USERS).explain(
                        **({"analyze": True} if is_postgres() else {})
                    ),
                    sep="\n",
                    flush=True,
                )
            found = count(USERS)()
            transaction.set_rollback(True)
        return found

    figures["active_users_change"] = compare(
        "(d) usage.active_users_7d changed_by -1 over 30 days",
        count(USERS),
        without_index,
        args.runs,
        args.baseline_runs,
        "without (workspace, day) index",
    )
    figures["user_day_insert"] = user_day_insert_cost(workspace, t, index, args.baseline_runs)

    ids = np.array(sorted(accounts.values_list("id", flat=True)), dtype=np.int64)
    rule = MetricRule(
        id="usage.0",
        source=f"metrics.{METRIC}",
        params=(("aggregate", "latest"), ("days", 30)),
        label="API calls",
        weight=1.0,
        grading="thresholds",
        direction="higher",
    )
    source = CustomMetricSource()

    def health_latest():
        return source.values(workspace, ids, [rule], t)[rule.input_key]

    new_times, found = timed(health_latest, args.runs)
    old_times, old = timed(lambda: window_latest(metric.pk, t, 30), args.baseline_runs)
    assert int(np.count_nonzero(~np.isnan(found))) == len(old)
    figures["health_latest"] = {
        "new": new_times,
        "before": old_times,
        "ratio_p50": round(new_times["p50_ms"] / old_times["p50_ms"], 3),
    }
    print(
        f"(e) health source, latest over 30 days, {len(ids):,} accounts: p50 {new_times['p50_ms']} ms;"
        f" before p50 {old_times['p50_ms']} ms ({figures['health_latest']['ratio_p50']}x)",
        flush=True,
    )

    # Time the two upserts of a write: the series' (MetricValue) and the latest rows' merge.
    upserts = {"MetricValue": [], "MetricLatest": []}
    upsert = metric_actions.upsert

    def timed_upsert(model, *a, **k):
        started = time.perf_counter()
        found = upsert(model, *a, **k)
        upserts[model.__name__].append(time.perf_counter() - started)
        return found

    metric_actions.upsert = timed_upsert
    rng = random.Random(SEED + 1)
    external = list(accounts.order_by("id").values_list("external_id", flat=True))
    writes = []
    try:
        for run in range(6):
            chosen = rng.sample(external, min(5000, len(external)))
            facts = [
                MetricFact(i, key, METRIC, float(run * 10 + i % 7), t)
                for i, key in enumerate(chosen)
            ]
            started = time.perf_counter()
            ingest(workspace, Intake(source=Source.API, received=len(facts), metrics=facts))
            writes.append(time.perf_counter() - started)
    finally:
        metric_actions.upsert = upsert
    # The first of each is the warm-up.
    series, merge = upserts["MetricValue"][1:], upserts["MetricLatest"][1:]
    figures["write_5000"] = {
        "ingest_p50_ms": ms(percentile(writes[1:], 0.5)),
        "series_upsert_p50_ms": ms(percentile(series, 0.5)),
        "merge_p50_ms": ms(percentile(merge, 0.5)),
        "merge_share": round(percentile(merge, 0.5) / percentile(writes[1:], 0.5), 3),
    }
    print(
        f"(f) 5,000 values through ingest: p50 {figures['write_5000']['ingest_p50_ms']} ms, of which "
        f"the series' upsert {figures['write_5000']['series_upsert_p50_ms']} ms and the latest "
        f"rows' merge {figures['write_5000']['merge_p50_ms']} ms",
        flush=True,
    )
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    with transaction.atomic():
        due = MetricLatest.objects.filter(workspace=workspace, next_day__lte=t + 1).count()
        started = time.perf_counter()
        moved = metric_actions.advance_latest_values(now=tomorrow)
        figures["advance"] = {"rows": moved, "ms": ms(time.perf_counter() - started)}
        assert moved == due, (moved, due)
        transaction.set_rollback(True)
    print(
        f"(f) moving {moved:,} rows whose value sent ahead became current: {figures['advance']['ms']} ms"
    )
    return figures


def main():
    args = parse_args()
    setup = {}
    if not args.reuse:
        if not is_postgres():
            shutil.rmtree(DATA_DIR, ignore_errors=True)
            DATA_DIR.mkdir(parents=True)
        setup = fill(args.accounts, args.days)
    import django

    django.setup()
    from django.db import connection
    from django_scopes import scopes_disabled

    with scopes_disabled():
        figures = measure(args)
    database = "postgresql" if is_postgres() else "sqlite"
    version = connection.pg_version if is_postgres() else connection.Database.sqlite_version
    print(
        json.dumps(
            {
                "database": database,
                "version": version,
                "accounts": args.accounts,
                "days": args.days,
                "load_average": round(os.getloadavg()[0], 1),
                **setup,
                **figures,
            }
        )
    )


if __name__ == "__main__":
    main()
