"""Benchmark: the account timeline of an account with 90 days of history — server time to
render the profile's first page, the next page (infinite scroll), a filtered page, and the
API's page.

Set-up (not measured): one workspace of 300 accounts, each with 90 days of history as a busy
CS team leaves it — about 40 touchpoints, 60 tasks created and 50 completed, 30 play runs
(and 200 skipped ones, which the timeline leaves out), 15 health rank changes, 5 stage
changes, 150 attribute changes, 2 status changes, 60 segment entries and exits (one
private segment among 10), 20 end users with their first activity and 6 modules used every
day — so every table holds ~100,000 rows and the indexes, not the
table's size, decide the cost. The benchmarked account has the same history.

Each measure is a request through Django's test client (middleware, the timeline's queries,
template rendering; no network): 5 warm-up rounds, then the median and 95th percentile of
40, in milliseconds of wall time and of this process's CPU time (on a shared machine the
CPU time is the closer figure to an idle server's), with the number of queries. Baseline in the same run: one indexed query
reading 20 of the account's attribute changes, newest first.

    .venv/bin/python bench/timeline.py                 # SQLite
    .venv/bin/python bench/timeline.py --reuse         # keep the filled database
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_timeline .venv/bin/python bench/timeline.py

The last line printed is one JSON object with the figures. The filled database doubles as a
place to look at the timeline: ``TEND_DATA_DIR=bench/out-timeline tend serve`` and log in as
``bench@timeline.test`` / ``bench-timeline``.
"""

import argparse
import datetime
import json
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / "out-timeline"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TEND_DATA_DIR", str(DATA_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

SLUG = "bench-timeline"
EMAIL, PASSWORD = "bench@timeline.test", "bench-timeline"
DAYS = 90
ROUNDS, WARM = 40, 5


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--reuse", action="store_true", help="keep the database filled before")
    return parser.parse_args()


def is_postgres() -> bool:
    return (os.environ.get("DATABASE_URL") or "").startswith("postgres")


def history(ws, account, members, stages, segments, play, rng, now, ids):
    """Unsaved rows: 90 days of one account's history."""
    from tend.accounts.models import AttributeChange, StageChange, StatusChange
    from tend.health.models import HealthChange
    from tend.plays.models import PlayRun
    from tend.segments.models import SegmentChange
    from tend.work.models import Task, Touchpoint

    def when():
        return now - datetime.timedelta(seconds=rng.randint(60, DAYS * 86_400))

    rows = {k: [] for k in ("tp", "task", "run", "health", "stage", "attr", "status", "seg", "day")}
    for n in range(40):
        rows["tp"].append(
            Touchpoint(
                workspace=ws, account=account, type=rng.choice(["call", "meeting", "email", "note", "qbr"]),
                occurred_at=when(), subject=f"Check-in {n}", author=rng.choice(members),
                body="Discussed **adoption** of reporting.\n\n- SSO next quarter\n- 3 new seats",
                sentiment=rng.choice(["positive", "neutral", "neutral", "negative"]),
            )
        )  # fmt: skip
    for n in range(60):
        created = when()
        done = n < 50
        rows["task"].append(
            Task(
                workspace=ws, account=account, title=f"Follow up {n}", due_date=created.date(),
                created_at=created, updated_at=created, created_by=rng.choice(members),
                assignee=rng.choice(members), status="done" if done else "open",
                completed_at=min(created + datetime.timedelta(days=2), now) if done else None,
                completed_by=rng.choice(members) if done else None,
            )
        )  # fmt: skip
    for n in range(230):
        rows["run"].append(
            PlayRun(
                workspace=ws, play=play, account=account, occurrence_key=f"{account.pk}:{n}",
                status="done" if n < 30 else "skipped", cause_kind="segment_change",
                cause="entered At risk", started_at=when(),
            )
        )  # fmt: skip
    ranks = ["good", "average", "poor"]
    for n in range(15):
        rows["health"].append(
            HealthChange(
                workspace=ws, account=account, from_rank=ranks[n % 3], to_rank=ranks[(n + 1) % 3],
                score=rng.uniform(10, 95), changed_at=when(),
            )
        )  # fmt: skip
    for n in range(5):
        rows["stage"].append(
            StageChange(
                workspace=ws, account=account, from_stage=stages[n], to_stage=stages[n + 1],
                changed_by=rng.choice(members), changed_at=when(),
            )
        )  # fmt: skip
    for n in range(150):
        rows["attr"].append(
            AttributeChange(
                workspace=ws, account=account, key=rng.choice(["plan", "seats", "region"]),
                from_value=n, to_value=n + 1, changed_by=rng.choice(members + [None]),
                changed_at=when(), source=rng.choice(["ui", "api", "import"]),
            )
        )  # fmt: skip
    for a, b in [("free", "trial"), ("trial", "paying")]:
        rows["status"].append(
            StatusChange(
                workspace=ws, account=account, from_status=a, to_status=b, changed_at=when()
            )
        )
    for n in range(60):
        rows["seg"].append(
            SegmentChange(
                workspace=ws, segment=rng.choice(segments), account=account,
                kind="entered" if n % 2 == 0 else "left", at=when(),
            )
        )  # fmt: skip
    from tend.lib.dates import day_number
    from tend.usage.models import AccountActivityDay

    today = day_number(now.date())
    for module in ("reports", "dashboards", "admin", "exports", "alerts", "api"):
        for day in range(today - DAYS, today + 1):
            rows["day"].append(
                AccountActivityDay(
                    workspace=ws, account=account, day=day, activity="open", module=module, events=3
                )
            )
    return rows


def fill(n_accounts: int):
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django_scopes import scopes_disabled

    from tend.accounts.models import (
        Account,
        AttributeChange,
        AttributeDefinition,
        EndUser,
        Stage,
        StageChange,
        StatusChange,
    )
    from tend.health.models import HealthChange
    from tend.plays.models import Play, PlayRun
    from tend.segments.models import Segment, SegmentChange
    from tend.usage.models import AccountActivityDay, UserUsage
    from tend.work.models import Task, Touchpoint
    from tend.workspaces.models import Member, User, Workspace

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    rng = random.Random(7)
    now = datetime.datetime.now(datetime.UTC)
    models = {
        "tp": Touchpoint, "task": Task, "run": PlayRun, "health": HealthChange,
        "stage": StageChange, "attr": AttributeChange, "status": StatusChange, "seg": SegmentChange,
        "day": AccountActivityDay,
    }  # fmt: skip
    with scopes_disabled(), transaction.atomic():
        Workspace.objects.filter(slug=SLUG).delete()
        ws = Workspace.objects.create(name="Bench timeline", slug=SLUG, time_zone="Europe/Paris")
        user = User.objects.filter(email=EMAIL).first() or User.objects.create_user(
            email=EMAIL, password=PASSWORD, full_name="Bench CSM"
        )
        members = [Member.objects.create(workspace=ws, user=user, seat="admin")]
        for n in range(4):
            other = User.objects.create_user(
                email=f"csm{n}-{time.time_ns()}@timeline.test",
                password=PASSWORD,
                full_name=f"CSM {n}",
            )
            members.append(Member.objects.create(workspace=ws, user=other, seat="practitioner"))
        for key, label in (("plan", "Plan"), ("seats", "Seats"), ("region", "Region")):
            AttributeDefinition.objects.create(workspace=ws, key=key, label=label)
        stages = [
            Stage.objects.create(workspace=ws, name=f"Stage {n}", position=n) for n in range(6)
        ]
        segments = [
            Segment.objects.create(
                workspace=ws, name=f"Segment {n}", kind="static",
                visibility="private" if n == 0 else "shared", owner=members[1],
            )
            for n in range(10)
        ]  # fmt: skip
        play = Play.objects.create(
            workspace=ws, name="At-risk outreach", trigger_kind="segment_entered"
        )
        accounts = Account.objects.bulk_create(
            [
                Account(
                    workspace=ws, external_id=f"acct-{n}", name=f"Account {n:04d}", status="paying"
                )
                for n in range(n_accounts)
            ]
        )
        for start in range(0, len(accounts), 50):
            batch = {k: [] for k in models}
            for account in accounts[start : start + 50]:
                for key, rows in history(
                    ws, account, members, stages, segments, play, rng, now, None
                ).items():
                    batch[key] += rows
            for key, rows in batch.items():
                models[key].objects.bulk_create(rows, batch_size=2000)
        people = EndUser.objects.bulk_create(
            [
                EndUser(
                    workspace=ws, account=account, external_id=f"{account.pk}-{n}", name=f"User {n}"
                )
                for account in accounts
                for n in range(20)
            ],
            batch_size=2000,
        )
        first_ms = int(now.timestamp() * 1000) - DAYS * 86_400_000
        UserUsage.objects.bulk_create(
            [
                UserUsage(
                    workspace=ws,
                    end_user=person,
                    first_seen_ms=first_ms + rng.randint(0, DAYS * 86_400_000),
                )
                for person in people
            ],
            batch_size=2000,
        )
    print(
        f"set-up: {n_accounts} accounts × 90 days of history in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def measure(client, url) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARM):
        assert client.get(url).status_code == 200, url
    times, cpu = [], []
    for _ in range(ROUNDS):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 1),
        "median_cpu_ms": round(statistics.median(cpu), 1),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
        "queries": len(captured),
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
    from django.test import Client
    from django_scopes import scopes_disabled

    from tend.accounts.models import Account, AttributeChange
    from tend.workspaces.models import Member, Workspace

    with scopes_disabled():
        ws = Workspace.objects.get(slug=SLUG)
        member = Member.objects.select_related("user").get(workspace=ws, user__email=EMAIL)
        account = Account.objects.filter(workspace=ws).order_by("id")[args.accounts // 2]
        started = time.perf_counter()
        for _ in range(ROUNDS):
            list(
                AttributeChange.objects.filter(account=account).order_by("-changed_at", "-id")[:20]
            )
        baseline = round((time.perf_counter() - started) * 1000 / ROUNDS, 2)
    client = Client()
    client.force_login(member.user)
    client.get("/")
    first = client.get(f"/accounts/{account.pk}/timeline/").content.decode()
    more = first.split('class="tl-more" hx-get="')[1].split('"')[0].replace("&amp;", "&")
    urls = {
        "profile_page": f"/accounts/{account.pk}/",
        "timeline_first_page": f"/accounts/{account.pk}/timeline/",
        "timeline_next_page": more,
        "timeline_by_member": f"/accounts/{account.pk}/timeline/?tl_member={member.pk}",
        "timeline_touchpoints_only": f"/accounts/{account.pk}/timeline/?tl_kind=touchpoint",
        "api_page_of_25": f"/api/v1/accounts/{account.pk}/timeline",
        "api_page_of_100": f"/api/v1/accounts/{account.pk}/timeline?limit=100",
    }
    print(f"load average: {os.getloadavg()}", flush=True)
    print(f"baseline: 20 attribute changes of one account in one query: {baseline} ms", flush=True)
    results = {}
    for name, url in urls.items():
        figures = measure(client, url)
        figures["ratio_to_baseline"] = round(figures["median_ms"] / baseline, 1)
        results[name] = figures
        print(
            f"{name}: median {figures['median_ms']} ms (CPU {figures['median_cpu_ms']} ms), "
            f"p95 {figures['p95_ms']} ms, "
            f"{figures['queries']} queries ({figures['ratio_to_baseline']}× baseline)",
            flush=True,
        )
    with scopes_disabled():
        rows = {
            "touchpoints": account.touchpoints.count(),
            "attribute_changes": AttributeChange.objects.filter(account=account).count(),
        }
    print(
        json.dumps(
            {
                "database": "postgresql" if is_postgres() else "sqlite",
                "version": connection.pg_version
                if is_postgres()
                else connection.Database.sqlite_version,
                "accounts": args.accounts,
                "load_average": os.getloadavg(),
                "account_rows": rows,
                "baseline_ms": baseline,
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
