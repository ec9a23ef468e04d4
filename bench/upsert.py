"""Benchmark: bulk upsert of accounts through the real HTTP stack, against a raw-SQL floor.

Builds a workspace with 100,000 accounts carrying 5 custom attributes, then sends
``PUT /api/v1/accounts`` requests of 5,000 and of 10,000 accounts (two thirds existing keys,
half of those changed; one third new) through Django's test client — URL routing, all
middleware, token auth, rate limiting, the Ninja router, JSON in and out — and reports
objects/s and p50/p95 per request. In the same run it times a raw
``INSERT … ON CONFLICT DO UPDATE`` (one transaction) of batches with the same composition,
writing every item and every column in the backend's fastest statement form — what an
upsert without a diff would pay — and prints the ratio. The API can come in under that
floor: it writes neither unchanged items nor unchanged columns.

    .venv/bin/python bench/upsert.py                      # SQLite under bench/out
    .venv/bin/python bench/upsert.py --profile            # one 5,000 request under pyinstrument
    .venv/bin/python bench/upsert.py --without-stamps     # without the condition stamps' triggers
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/upsert.py

The last line printed is one JSON object with the figures.
"""

import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TEND_DATA_DIR", str(ROOT / "bench" / "out"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")
# The benchmark measures the upsert, not the limiter's refusal.
os.environ.setdefault("TEND_RATE_LIMIT_PER_MINUTE", "1000000")

EXISTING = 100_000
SIZES = {5_000: 20, 10_000: 10}  # request size → number of requests
SEED = 20261122
PLANS = ["starter", "growth", "enterprise"]
REGIONS = ["EMEA", "NA", "APAC", "LATAM"]


def fresh_sqlite(data_dir: Path) -> None:
    """Start from an empty database file so every run measures the same thing."""
    if not os.environ.get("DATABASE_URL"):
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True, exist_ok=True)


def account_item(n: int, rng: random.Random, variant: int = 0) -> dict:
    return {
        "external_id": f"acct-{n:07d}",
        "name": f"Company {n}",
        "status": "paying",
        "attributes": {
            "plan": PLANS[(n + variant) % 3],
            "seats": 10 + (n * 7 + variant) % 500,
            "mrr": round(100 + (n % 97) * 12.5 + variant, 2),
            "renewal_date": f"2027-{1 + n % 12:02d}-{1 + n % 28:02d}",
            "region": REGIONS[n % 4],
        },
    }


def setup_workspace():
    from django.core.management import call_command
    from django_scopes import scopes_disabled

    from tend.accounts.models import Account, AttributeDefinition, AttributeType
    from tend.test import make_member, make_token
    from tend.workspaces.models import Workspace

    call_command("migrate", verbosity=0)
    with scopes_disabled():
        Workspace.objects.filter(slug="bench-upsert").delete()
        ws = Workspace.objects.create(name="Bench", slug="bench-upsert")
        make_member(ws, "admin", email="bench-owner@example.com")
        token = make_token(ws, ("read", "write"), name="bench")
        for position, (key, kind, options) in enumerate(
            [
                ("plan", AttributeType.ENUM, PLANS),
                ("seats", AttributeType.NUMBER, []),
                ("mrr", AttributeType.CURRENCY, []),
                ("renewal_date", AttributeType.DATE, []),
                ("region", AttributeType.TEXT, []),
            ]
        ):
            AttributeDefinition.objects.create(
                workspace=ws,
                key=key,
                label=key.title(),
                type=kind,
                options=options,
                position=position,
            )
        rng = random.Random(SEED)
        started = time.perf_counter()
        batch = []
        for n in range(EXISTING):
            item = account_item(n, rng)
            batch.append(Account(workspace=ws, external_id=item["external_id"], name=item["name"],
                                 status="paying", attributes=item["attributes"]))  # fmt: skip
            if len(batch) == 5_000:
                Account.objects.bulk_create(batch)
                batch = []
        print(f"seeded {EXISTING:,} accounts in {time.perf_counter() - started:.1f} s", flush=True)
    return ws, token


class Keys:
    """Hands out request batches: two thirds existing keys (half of them changed), one third new."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.next_new = EXISTING
        self.variant = 0

    def batch(self, size: int) -> list[dict]:
        existing = self.rng.sample(range(self.next_new), size * 2 // 3)
        new = range(self.next_new, self.next_new + size - len(existing))
        self.next_new += len(new)
        self.variant += 1
        items = [
            account_item(n, self.rng, self.variant if i % 2 else 0) for i, n in enumerate(existing)
        ]
        items += [account_item(n, self.rng) for n in new]
        self.rng.shuffle(items)
        return items


def floor_upsert(ws_id: int, items: list[dict]) -> float:
    """Time a raw ``INSERT … ON CONFLICT DO UPDATE`` of every item, in one transaction.

    It writes every item and sets every column, as an upsert without a diff would: no
    reading, checking or answer. Each backend gets its fastest statement form, so the floor
    measures the database rather than the driver: on SQLite, multi-row ``VALUES`` of up to
    4,000 rows (28,000 variables); on PostgreSQL, the rows as one JSON document through
    ``json_to_recordset`` (psycopg's client-side binding quotes each value in Python, which
    costs more than the server's work).
    """
    import orjson
    from django.db import connection, transaction
    from django.utils import timezone

    from tend.accounts.models import Account

    table = Account._meta.db_table
    columns = "workspace_id, external_id, name, status, attributes, created_at, updated_at"
    tail = (
        " ON CONFLICT (workspace_id, external_id) DO UPDATE SET name = excluded.name, "
        "status = excluded.status, parent_id = excluded.parent_id, stage_id = excluded.stage_id, "
        "stage_entered_at = excluded.stage_entered_at, attributes = excluded.attributes, "
        "updated_at = excluded.updated_at"
    )
    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            records = [
                {
                    "workspace_id": ws_id,
                    "external_id": i["external_id"],
                    "name": i["name"],
                    "status": i["status"],
                    "attributes": i["attributes"],
                    "created_at": now,
                    "updated_at": now,
                }
                for i in items
            ]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM json_to_recordset(%s::json) "  # noqa: S608
                "AS r(workspace_id bigint, external_id varchar(255), name varchar(255), "
                "status varchar(10), attributes jsonb, created_at timestamptz, "
                "updated_at timestamptz)" + tail,
                [orjson.dumps(records).decode()],
            )
        else:
            stamp = connection.ops.adapt_datetimefield_value(now)
            for offset in range(0, len(items), 4000):
                part = items[offset : offset + 4000]
                params = []
                for i in part:
                    params += [
                        ws_id,
                        i["external_id"],
                        i["name"],
                        i["status"],
                        orjson.dumps(i["attributes"]).decode(),
                        stamp,
                        stamp,
                    ]
                values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(part))
                cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values}{tail}", params)  # noqa: S608
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    fresh_sqlite(Path(os.environ["TEND_DATA_DIR"]))
    import django

    django.setup()
    import orjson
    from django.db import connection
    from django.test import Client

    ws, token = setup_workspace()
    if "--without-stamps" in sys.argv:
        # What the condition stamps' triggers cost the upsert: the same run without them.
        from tend.accounts import stamps

        with connection.schema_editor() as editor:
            for table in ("accounts_account", "usage_accountusage", "health_accounthealth"):
                for statement in stamps.uninstall_sql(connection.vendor, table):
                    editor.execute(statement, params=None)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="localhost")
    keys = Keys(random.Random(SEED))
    figures = {"database": connection.vendor, "existing_accounts": EXISTING, "attributes": 5}

    # One warm-up request: imports, first-query caches, connection setup.
    client.put("/api/v1/accounts", orjson.dumps(keys.batch(1000)), content_type="application/json")
    if "--profile" in sys.argv:
        from pyinstrument import Profiler

        body = orjson.dumps(keys.batch(5_000))
        with Profiler(interval=0.0005) as profiler:
            client.put("/api/v1/accounts", body, content_type="application/json")
        print(profiler.output_text(unicode=True, show_all="--all" in sys.argv))
        return

    for size, requests in SIZES.items():
        api_times, floor_times, counts = [], [], {}
        for _ in range(requests):
            body = orjson.dumps(keys.batch(size))
            started = time.perf_counter()
            response = client.put("/api/v1/accounts", body, content_type="application/json")
            api_times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(
                    f"upsert failed: {response.status_code} {response.content[:300]!r}"
                )
            for status, n in orjson.loads(response.content)["counts"].items():
                counts[status] = counts.get(status, 0) + n
            floor_times.append(floor_upsert(ws.id, keys.batch(size)))
        api_rate = size * requests / sum(api_times)
        floor_rate = size * requests / sum(floor_times)
        row = {
            "requests": requests,
            "objects_per_s": round(api_rate),
            "p50_ms": round(percentile(api_times, 0.5) * 1000, 1),
            "p95_ms": round(percentile(api_times, 0.95) * 1000, 1),
            "floor_objects_per_s": round(floor_rate),
            "floor_p50_ms": round(statistics.median(floor_times) * 1000, 1),
            "ratio_to_floor": round(floor_rate / api_rate, 2),
            "counts": counts,
        }
        figures[f"batch_{size}"] = row
        print(
            f"{size:>6,} per request × {requests}: {api_rate:>8,.0f} objects/s, "
            f"p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms | raw SQL floor {floor_rate:,.0f} objects/s "
            f"(p50 {row['floor_p50_ms']} ms) | API takes {row['ratio_to_floor']}× the floor | {counts}",
            flush=True,
        )
    figures["goal"] = {"objects_per_s": 20_000, "p95_ms_at_5000": 500}
    figures["meets_goal"] = (
        min(figures[f"batch_{s}"]["objects_per_s"] for s in SIZES) >= 20_000
        and figures["batch_5000"]["p95_ms"] <= 500
    )
    print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
