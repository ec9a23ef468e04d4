"""Benchmark: counting a segment over a large population, and paging through it by cursor.

Set-up (not measured): a workspace of 1,000,000 accounts written with raw bulk statements
(executemany on SQLite, COPY on PostgreSQL) — statuses (60 % paying, 20 % trial, 10 % free,
10 % churned), two typed attributes (``plan`` of four options, ``seats``), a usage metrics
row for 90 % of them (a long-tailed ``events_30d``) and a health row for 95 % (rank and score).

(a) **Segment evaluation**: a 5-predicate condition over attributes, usage and health, with
    an ``all`` and an ``any`` group (:data:`SEGMENT`), counted as a segment does it: build
    the workspace's catalog, ``count_accounts`` (the column cache of
    ``tend.accounts.columns``, its freshness check included) — ``--runs`` times, warm.
    Baseline in the same run: ``SELECT count(*)`` of the workspace's rows of the accounts
    table. Goals: p95 ≤ 300 ms and ≤ 3× the baseline over 1,000,000 accounts; p95 ≤ 50 ms
    over 100,000. Also printed: the first count (cold: the compiled query answers while a
    builder thread reads the ids and the four database columns the condition reads), and
    the cache's build, waited for, with the memory it holds; the freshness check alone when
    nothing changed; a count after ``--changed`` accounts were written (their status and
    their usage, two raw statements — what the next count's refresh reloads), a few times;
    and the compiled SQL count (``--sql-runs`` times), which must give the same number.
(b) **Paging**: ``POST /api/v1/accounts/search`` through the whole HTTP stack (Django's test
    client: middleware, token auth, rate limit, Ninja, orjson) from the first page to the
    last, 1,000 accounts a page, each page asked with the previous page's cursor. Goal: ≤ 10
    s for 1,000,000 accounts. The same with four fields (status, a JSON attribute, usage and
    health) is printed beside it.

    .venv/bin/python bench/segments.py                          # SQLite, 1,000,000 accounts
    .venv/bin/python bench/segments.py --accounts 100000        # the 100,000 figure
    .venv/bin/python bench/segments.py --reuse                  # keep the filled database
    .venv/bin/python bench/segments.py --reuse --explain        # print the count's query plan
    .venv/bin/python bench/segments.py --reuse --profile        # one page under pyinstrument
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_segments .venv/bin/python bench/segments.py

The last line printed is one JSON object with the figures.
"""

import argparse
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / "out-segments"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TEND_DATA_DIR", str(DATA_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")
# A thousand pages in a few seconds must not trip the API's per-minute limit.
os.environ.setdefault("TEND_RATE_LIMIT_PER_MINUTE", "1000000")

SEED = 20261129
SLUG = "bench-segments"
PLANS = ["free", "starter", "pro", "enterprise"]
STATUSES = ["paying"] * 6 + ["trial"] * 2 + ["free", "churned"]
SEGMENT = {
    "all": [
        {"field": "status", "op": "eq", "value": "paying"},
        {"field": "attributes.plan", "op": "in", "value": ["pro", "enterprise"]},
        {"field": "attributes.seats", "op": "gte", "value": 10},
        {
            "any": [
                {"field": "usage.events_30d", "op": "lt", "value": 20},
                {"field": "health.rank", "op": "eq", "value": "poor"},
            ]
        },
    ]
}
PAGE_FIELDS = ["status", "attributes.plan", "usage.events_30d", "health.rank"]
GOALS = {
    "count_p95_ms_1m": 300,
    "count_ratio_1m": 3,
    "count_p95_ms_100k": 50,
    "paging_seconds_1m": 10,
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30, help="segment counts to time")
    parser.add_argument("--reuse", action="store_true", help="keep the filled database")
    parser.add_argument("--explain", action="store_true", help="print the count's query plan")
    parser.add_argument("--profile", action="store_true", help="profile one page and one count")
    parser.add_argument("--no-fields-paging", action="store_true", help="skip paging with fields")
    parser.add_argument("--no-paging", action="store_true", help="skip paging altogether")
    parser.add_argument("--changed", type=int, default=1000, help="accounts written between counts")
    parser.add_argument("--sql-runs", type=int, default=3, help="compiled SQL counts to time")
    return parser.parse_args()


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'tend.sqlite3'}"


def is_postgres() -> bool:
    return database_url().startswith("postgres")


# --- set-up ------------------------------------------------------------------------------------


def _rows(n: int, workspace_id: int, first_id: int):
    """Accounts, usage rows and health rows as tuples (ids assigned here, contiguous)."""
    import orjson
    from django.db import connection
    from django.utils import timezone

    rng = random.Random(SEED)
    now = timezone.now()
    if not is_postgres():
        now = connection.ops.adapt_datetimefield_value(now)
    accounts, usage, health = [], [], []
    for i in range(n):
        pk = first_id + i
        attributes = orjson.dumps(
            {"plan": rng.choice(PLANS), "seats": int(rng.paretovariate(1.3) * 3)}
        ).decode()
        accounts.append(
            (
                pk,
                workspace_id,
                f"acct-{i:07d}",
                f"Company {i:07d}",
                rng.choice(STATUSES),
                attributes,
                now,
                now,
            )
        )
        if rng.random() < 0.9:
            events = int(rng.paretovariate(1.1) * 5) - 5
            usage.append((pk, workspace_id, events, 1))
        if rng.random() < 0.95:
            score = round(rng.random() * 100, 1)
            rank = "good" if score >= 70 else "average" if score >= 40 else "poor"
            health.append((pk, workspace_id, score, rank, "{}", now, now))
    return accounts, usage, health


def _insert(table: str, columns: tuple[str, ...], rows: list) -> None:
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
            for start in range(0, len(rows), 100_000):
                cursor.executemany(sql, rows[start : start + 100_000])


def fill(n: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Max
    from django_scopes import scopes_disabled

    from tend.accounts.models import Account, AttributeDefinition, AttributeType
    from tend.health.models import AccountHealth
    from tend.usage.models import AccountUsage
    from tend.workspaces.models import Workspace

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with scopes_disabled():
        Workspace.objects.filter(slug=SLUG).delete()
        ws = Workspace.objects.create(name="Bench segments", slug=SLUG)
        AttributeDefinition.objects.create(
            workspace=ws, key="plan", label="Plan", type=AttributeType.ENUM, options=PLANS
        )
        AttributeDefinition.objects.create(
            workspace=ws, key="seats", label="Seats", type=AttributeType.NUMBER
        )
        first_id = (Account.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    accounts, usage, health = _rows(n, ws.pk, first_id)
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
            ("account_id", "workspace_id", "events_30d", "dirty"),
            usage,
        )
        _insert(
            AccountHealth._meta.db_table,
            (
                "account_id",
                "workspace_id",
                "score",
                "rank",
                "dimensions",
                "computed_at",
                "rank_since",
            ),
            health,
        )
        if is_postgres():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                    [Account._meta.db_table, first_id + n],
                )
    with connection.cursor() as cursor:
        # Fresh tables have no planner statistics; production's autovacuum would have them.
        cursor.execute("ANALYZE" if not is_postgres() else "VACUUM ANALYZE")
    print(
        f"{n:,} accounts, {len(usage):,} usage rows, {len(health):,} health rows in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    connection.close()


# --- (a) counting a segment --------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def after_changes(workspace, count_segment, changed: int, rounds: int = 5) -> dict:
    """Write ``changed`` accounts (status and usage, raw statements, each its own commit),
    then count: the count reloads them. ``rounds`` times, on different accounts."""
    from django.db import connection

    from tend.accounts.conditions import matching_accounts
    from tend.accounts.models import Account
    from tend.usage.models import AccountUsage

    q = connection.ops.quote_name
    accounts, usage = q(Account._meta.db_table), q(AccountUsage._meta.db_table)
    ids = list(
        Account.objects.filter(workspace=workspace).order_by("id").values_list("id", flat=True)
    )
    rng = random.Random(SEED + changed)
    times, cpus, writes = [], [], []
    for _ in range(rounds):
        chosen = rng.sample(ids, min(changed, len(ids)))
        marks = ", ".join(["%s"] * len(chosen))
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {accounts} SET status = CASE WHEN status = 'paying' "  # noqa: S608
                f"THEN 'churned' ELSE 'paying' END WHERE id IN ({marks})",
                chosen,
            )
            cursor.execute(
                f"UPDATE {usage} SET events_30d = (events_30d + 15) %% 40 "  # noqa: S608
                f"WHERE account_id IN ({marks})",
                chosen,
            )
        writes.append(time.perf_counter() - started)
        started, cpu = time.perf_counter(), time.process_time()
        found = count_segment()
        times.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    expected = matching_accounts(workspace, SEGMENT).count()
    if found != expected:
        raise SystemExit(f"after changes the cache counted {found}, SQL {expected}")
    return {
        "changed": changed,
        "rounds": rounds,
        "count_p50_ms": ms(percentile(times, 0.5)),
        "count_max_ms": ms(max(times)),
        "count_cpu_p50_ms": ms(percentile(cpus, 0.5)),
        "writes_p50_ms": ms(percentile(writes, 0.5)),
    }


def segment_counts(runs: int, explain: bool, profile: bool, changed: int, sql_runs: int) -> dict:
    from django.db import connection

    from tend.accounts import columns
    from tend.accounts.conditions import account_catalog, count_accounts, matching_accounts
    from tend.accounts.models import Account
    from tend.workspaces.models import Workspace

    workspace = Workspace.objects.get(slug=SLUG)
    table = connection.ops.quote_name(Account._meta.db_table)
    baseline_sql = f"SELECT count(*) FROM {table} WHERE workspace_id = %s"  # noqa: S608

    def count_segment() -> int:
        catalog = account_catalog(workspace)
        return count_accounts(workspace, SEGMENT, catalog=catalog)

    columns.clear()
    rss = _rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    first = count_segment()  # cold: the compiled query answers, a builder thread reads
    cold = time.perf_counter() - started
    columns.wait_for_builders()
    if workspace.pk not in columns._entries:  # built inline (a small workspace)
        count_segment()
    build = {
        "cold_count_seconds": round(cold, 3),
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "held_mb": round(columns._entries[workspace.pk].nbytes / 2**20, 1),
        "rss_growth_mb": round(_rss_mb() - rss, 1),
    }
    print(f"cache built (first count answered by SQL, builder waited for) {build}", flush=True)

    def count_all() -> int:
        with connection.cursor() as cursor:
            cursor.execute(baseline_sql, [workspace.pk])
            return cursor.fetchone()[0]

    if explain:
        queryset = matching_accounts(workspace, SEGMENT)
        print(queryset.explain(**({"analyze": True} if is_postgres() else {})), flush=True)
    if profile:
        from pyinstrument import Profiler

        with Profiler(interval=0.001) as profiler:
            count_segment()
        print(profiler.output_text(unicode=True), flush=True)
    count_segment(), count_all()  # warm the caches: both are measured warm
    segment, baseline, segment_cpu, baseline_cpu = [], [], [], []
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        matched = count_segment()
        segment.append(time.perf_counter() - started)
        segment_cpu.append(time.process_time() - cpu)
        started, cpu = time.perf_counter(), time.process_time()
        total = count_all()
        baseline.append(time.perf_counter() - started)
        baseline_cpu.append(time.process_time() - cpu)
    checks = []
    for _ in range(runs):
        started = time.perf_counter()
        entry = columns._entries[workspace.pk]
        columns.current_mark(workspace.pk), columns.stamps_since(workspace.pk, entry.mark)
        checks.append(time.perf_counter() - started)
    sql, sql_counts = [], set()
    for _ in range(sql_runs):
        started = time.perf_counter()
        sql_counts.add(matching_accounts(workspace, SEGMENT).count())
        sql.append(time.perf_counter() - started)
    if sql_counts and sql_counts != {matched}:
        raise SystemExit(f"the cache counted {matched}, SQL {sql_counts}")
    refreshed = after_changes(workspace, count_segment, changed) if changed else {}
    return {
        "accounts": total,
        "matched": matched,
        "first_count": first,
        "build": build,
        "check_p50_ms": round(percentile(checks, 0.5) * 1000, 2),
        "check_p95_ms": round(percentile(checks, 0.95) * 1000, 2),
        "sql_p50_ms": ms(percentile(sql, 0.5)) if sql else None,
        "after_changes": refreshed,
        "runs": runs,
        "segment_p50_ms": ms(percentile(segment, 0.5)),
        "segment_p95_ms": ms(percentile(segment, 0.95)),
        "baseline_p50_ms": ms(percentile(baseline, 0.5)),
        "baseline_p95_ms": ms(percentile(baseline, 0.95)),
        "ratio_p95": round(percentile(segment, 0.95) / percentile(baseline, 0.95), 2),
        "segment_cpu_p50_ms": ms(percentile(segment_cpu, 0.5)),
        "baseline_cpu_p50_ms": ms(percentile(baseline_cpu, 0.5)),
    }


# --- (b) paging through by cursor --------------------------------------------------------------


def page_through(fields: list[str], profile: bool = False) -> dict:
    import orjson
    from django.test import Client

    from tend.test import make_token
    from tend.workspaces.models import Workspace

    workspace = Workspace.objects.get(slug=SLUG)
    token = make_token(workspace, ("read",), name="bench search")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="localhost")
    body = {"limit": 1000, "fields": fields}
    if profile:
        from pyinstrument import Profiler

        client.post("/api/v1/accounts/search", orjson.dumps(body), content_type="application/json")
        with Profiler(interval=0.0005) as profiler:
            for _ in range(20):
                client.post(
                    "/api/v1/accounts/search", orjson.dumps(body), content_type="application/json"
                )
        print(profiler.output_text(unicode=True), flush=True)
    cursor, pages, items, slowest = None, 0, 0, 0.0
    started, cpu = time.perf_counter(), time.process_time()
    while True:
        began = time.perf_counter()
        response = client.post(
            "/api/v1/accounts/search",
            orjson.dumps({**body, "cursor": cursor}),
            content_type="application/json",
        )
        slowest = max(slowest, time.perf_counter() - began)
        if response.status_code != 200:
            raise SystemExit(f"search failed: {response.status_code} {response.content[:300]!r}")
        data = orjson.loads(response.content)
        pages += 1
        items += len(data["items"])
        cursor = data["next_cursor"]
        if cursor is None:
            break
    seconds = time.perf_counter() - started
    return {
        # This process's CPU time: on a shared, loaded machine a steadier figure than the wall
        # clock (on SQLite it includes the database's work, on PostgreSQL not the server's).
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "fields": fields,
        "pages": pages,
        "accounts": items,
        "seconds": round(seconds, 2),
        "per_page_ms": ms(seconds / pages),
        "slowest_page_ms": ms(slowest),
    }


def main():
    args = parse_args()
    if not args.reuse:
        if not is_postgres():
            shutil.rmtree(DATA_DIR, ignore_errors=True)
            DATA_DIR.mkdir(parents=True)
        fill(args.accounts)
    import django

    django.setup()
    from django.db import connection
    from django_scopes import scopes_disabled

    with scopes_disabled():
        counts = segment_counts(args.runs, args.explain, args.profile, args.changed, args.sql_runs)
        print(
            f"segment count over {counts['accounts']:,} accounts ({counts['matched']:,} match): "
            f"p50 {counts['segment_p50_ms']} ms, p95 {counts['segment_p95_ms']} ms; "
            f"count(*) p95 {counts['baseline_p95_ms']} ms; ratio {counts['ratio_p95']}x; CPU p50 "
            f"{counts['segment_cpu_p50_ms']} ms against {counts['baseline_cpu_p50_ms']} ms; "
            f"freshness check p50 {counts['check_p50_ms']} ms; SQL p50 {counts['sql_p50_ms']} ms; "
            f"after {args.changed:,} changed accounts {counts['after_changes']}",
            flush=True,
        )
        if args.no_paging:
            print(json.dumps({"segment": counts}))
            return
        paging = page_through([], args.profile)
        print(
            f"paging: {paging['accounts']:,} accounts in {paging['pages']:,} pages, {paging['seconds']} s "
            f"({paging['per_page_ms']} ms a page, slowest {paging['slowest_page_ms']} ms; "
            f"CPU {paging['cpu_seconds']} s)",
            flush=True,
        )
        with_fields = None
        if not args.no_fields_paging:
            with_fields = page_through(PAGE_FIELDS)
            print(
                f"paging with {', '.join(PAGE_FIELDS)}: {with_fields['seconds']} s "
                f"({with_fields['per_page_ms']} ms a page)",
                flush=True,
            )
    database = "postgresql" if is_postgres() else "sqlite"
    version = connection.pg_version if is_postgres() else connection.Database.sqlite_version
    big = counts["accounts"] >= 1_000_000
    figures = {
        "database": database,
        "version": version,
        "segment": counts,
        "paging": paging,
        "paging_with_fields": with_fields,
        "goal": GOALS,
        "meets_goal": (
            counts["segment_p95_ms"] <= GOALS["count_p95_ms_1m"]
            and counts["ratio_p95"] <= GOALS["count_ratio_1m"]
            and paging["seconds"] <= GOALS["paging_seconds_1m"]
        )
        if big
        else counts["segment_p95_ms"] <= GOALS["count_p95_ms_100k"],
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
