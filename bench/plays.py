"""Benchmark: plays at scale and a single trigger's latency, with real worker processes.

1. **Mass entry**: 10,000 accounts (each with a CSM) are added to a static segment in one
   action. An active play on "entered the segment" has two steps: create a task for the CSM
   and send the CSM an email through the outbox. Timed from the start of the action until
   every account has its task and its queued message, with ``tend worker`` and
   ``tend scheduler`` running as separate processes with their default settings (one
   worker, 1 s idle poll). The floor, measured in the same run, is the same rows — 10,000
   tasks, 10,000 outbox messages and their delivery jobs — inserted with ``bulk_create`` in
   one transaction: what the work costs with no engine, templates, leases or log.
2. **Latency** (measured first, on an idle queue): a play on "event received" with a
   create-task step; single events sent through ``POST /api/v1/events`` (Django's test
   client, whole stack) a second or so apart while the same worker runs idle; for each, the
   time from the request until the step's log row is written (its ``finished_at``).
   p50 / p95 / max. The mass entry follows; the email deliveries it queued are counted as
   still waiting when it ends (the same worker sends them).

    .venv/bin/python bench/plays.py                      # SQLite under bench/out-plays
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_plays .venv/bin/python bench/plays.py
    .venv/bin/python bench/plays.py --accounts 1000 --profile   # advance 1,000 runs in process
                                                                 # with query counts (--cprofile: profiled)

The last line printed is one JSON object with the figures.
"""

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA_DIR = ROOT / "bench" / "out-plays"
os.environ.setdefault("TEND_DATA_DIR", str(DATA_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")
os.environ.setdefault("TEND_RATE_LIMIT_PER_MINUTE", "1000000")
# Email stays on disk (the development default made explicit), under the bench's directory.
os.environ.setdefault("EMAIL_URL", f"file://{DATA_DIR / 'mail'}")

MEMBERS = 10
GOAL_MASS_SECONDS = 60.0
GOAL_LATENCY_SECONDS = 5.0


def fresh_sqlite() -> None:
    if not os.environ.get("DATABASE_URL"):
        shutil.rmtree(DATA_DIR, ignore_errors=True)
    DATA_DIR.mkdir(parents=True, exist_ok=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def setup(accounts: int):
    """A workspace with ``accounts`` accounts, each with a CSM among ``MEMBERS`` members; a
    static segment; the mass play (task + email) and the latency play (event → task)."""
    from django.core.management import call_command
    from django.utils import timezone
    from django_scopes import scope, scopes_disabled

    from tend.accounts.models import Account, Assignment, AssignmentRole
    from tend.plays.actions import create_play, set_status
    from tend.segments.actions import create_segment
    from tend.test import actor_for, make_member, make_token
    from tend.workspaces.models import Workspace

    call_command("migrate", verbosity=0)
    with scopes_disabled():
        Workspace.objects.filter(slug__in=["bench-plays", "bench-plays-floor"]).delete()
        ws = Workspace.objects.create(name="Bench plays", slug="bench-plays")
        floor_ws = Workspace.objects.create(name="Bench floor", slug="bench-plays-floor")
        members = [
            make_member(ws, "admin", email=f"csm{i}@example.com", name=f"CSM {i}")
            for i in range(MEMBERS)
        ]
        token = make_token(ws, ("read", "write", "ingest"), name="bench")
    actor = actor_for(members[0])
    now = timezone.now()
    with scope(workspace=ws.pk):
        role = AssignmentRole.objects.create(workspace=ws, key="csm", name="CSM")
        Account.objects.bulk_create(
            [
                Account(workspace=ws, external_id=f"acct-{n:05d}", name=f"Company {n}",
                        status="paying", attributes={}, created_at=now, updated_at=now)  # fmt: skip
                for n in range(accounts)
            ],
            batch_size=2000,
        )
        ids = list(Account.objects.filter(workspace=ws).order_by("pk").values_list("pk", flat=True))
        Assignment.objects.bulk_create(
            [
                Assignment(workspace=ws, account_id=pk, role=role, member=members[i % MEMBERS])
                for i, pk in enumerate(ids)
            ],
            batch_size=2000,
        )
        segment = create_segment(actor, {"name": "New customers", "kind": "static", "visibility": "shared"})
        mass = create_play(
            actor,
            {
                "name": "Onboarding kickoff",
                "trigger": {"kind": "segment_entered", "config": {"segment_id": segment.pk}},
                "steps": [
                    {
                        "kind": "create_task",
                        "config": {
                            "title": "Kickoff call with {{ account.name }}",
                            "description": "Book the kickoff with **{{ account.name }}**.",
                            "type": "onboarding",
                            "due_in_days": 3,
                            "assignee_role": "csm",
                        },
                    },
                    {
                        "kind": "send_email",
                        "config": {
                            "to_roles": ["csm"],
                            "subject": "{{ account.name }} is a new customer",
                            "body": "Hi {{ account.assignments.csm.name }},\n\n"
                            "**{{ account.name }}** just became a customer: a kickoff task is in your inbox.",
                        },
                    },
                ],
            },
        )
        set_status(actor, mass, "active", backfill=False)
        latency = create_play(
            actor,
            {
                "name": "Export follow-up",
                "trigger": {"kind": "event_received", "config": {"activity": "bench.export"}},
                "steps": [
                    {
                        "kind": "create_task",
                        "config": {"title": "{{ account.name }} exported data", "assignee_role": "csm"},
                    }
                ],
            },
        )
        set_status(actor, latency, "active", backfill=False)
    return ws, floor_ws, actor, segment, mass, latency, token, ids


def floor(floor_ws, accounts: int) -> float:
    """The same rows as the mass play writes, with no engine: ``bulk_create`` of accounts'
    tasks, outbox messages and delivery jobs in one transaction (accounts made untimed)."""
    import datetime

    from django.db import transaction
    from django.utils import timezone
    from django_scopes import scope

    from tend.accounts.models import Account
    from tend.jobs.models import Job
    from tend.outbox.models import Message
    from tend.work.models import Task

    now = timezone.now()
    with scope(workspace=floor_ws.pk):
        Account.objects.bulk_create(
            [Account(workspace=floor_ws, external_id=f"f-{n}", name=f"Company {n}", created_at=now,
                     updated_at=now) for n in range(accounts)],  # fmt: skip
            batch_size=2000,
        )
        ids = list(Account.objects.filter(workspace=floor_ws).values_list("pk", flat=True))
        started = time.perf_counter()
        with transaction.atomic():
            Task.objects.bulk_create(
                [
                    Task(workspace=floor_ws, account_id=pk, title=f"Kickoff call with Company {i}",
                         description="Book the kickoff.", type="onboarding", priority="normal",
                         due_date=now.date() + datetime.timedelta(days=3), key=f"floor:{pk}:1",
                         created_at=now, updated_at=now)  # fmt: skip
                    for i, pk in enumerate(ids)
                ],
                batch_size=2000,
            )
            messages = Message.objects.bulk_create(
                [
                    Message(workspace=floor_ws, key=f"floor:{pk}:2", account_id=pk,
                            from_email="tend@example.com", to=["csm@example.com"], cc=[],
                            subject=f"Company {i} is a new customer", text="Hi,\n\nnew customer.",
                            html="<p>Hi,</p><p>new customer.</p>", headers=[],
                            message_id=f"<floor-{pk}@example.com>", created_at=now,
                            next_attempt_at=now)  # fmt: skip
                    for i, pk in enumerate(ids)
                ],
                batch_size=2000,
            )
            Job.objects.bulk_create(
                [
                    Job(kind="outbox.deliver", payload={"message_id": m.pk}, workspace_id=floor_ws.pk,
                        due_at=now + datetime.timedelta(days=365), created_at=now)  # fmt: skip
                    for m in messages
                ],
                batch_size=2000,
            )
        return time.perf_counter() - started


class Processes:
    """``tend worker`` and ``tend scheduler`` with their default settings."""

    def __init__(self, log: Path, scheduler: bool = True):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.log = open(log, "ab")  # noqa: SIM115
        commands = [["worker"]] + ([["scheduler"]] if scheduler else [])
        self.procs = [
            subprocess.Popen([sys.executable, "-m", "tend.cli", *c], env=env, cwd=ROOT,
                             stdout=self.log, stderr=subprocess.STDOUT)  # fmt: skip
            for c in commands
        ]

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
        self.log.close()


def queue_idle(timeout: float) -> float:
    """Wait until no job is due or running; return the seconds waited."""
    from django.db.models import Q
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from tend.jobs.models import Job

    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        with scopes_disabled():
            busy = Job.objects.filter(
                Q(status="running") | Q(status="queued", due_at__lte=timezone.now())
            ).exists()
        if not busy:
            return time.perf_counter() - started
        time.sleep(0.5)
    raise SystemExit(f"the job queue did not empty within {timeout:.0f} s")


def deliveries_left(workspace_id: int) -> int:
    from django_scopes import scopes_disabled

    from tend.jobs.models import Job

    with scopes_disabled():
        return Job.objects.filter(
            kind="outbox.deliver", status="queued", workspace_id=workspace_id
        ).count()


def mass_entry(actor, segment, play, ids, timeout: float) -> dict:
    from django_scopes import scope

    from tend.outbox.models import Message
    from tend.plays.models import PlayRun
    from tend.segments.actions.membership import add_accounts
    from tend.work.models import Task

    ws_id = segment.workspace_id
    started = time.perf_counter()
    with scope(workspace=ws_id):
        add_accounts(actor, segment, account_ids=ids)
    added = time.perf_counter() - started
    first_run = first_task = None
    samples = []
    with scope(workspace=ws_id):
        while True:
            elapsed = time.perf_counter() - started
            runs = PlayRun.objects.filter(play=play).count()
            tasks = Task.objects.filter(play_id=play.pk).count()
            messages = Message.objects.filter(workspace_id=ws_id, source=f"play:{play.pk}").count()
            if runs and first_run is None:
                first_run = elapsed
            if tasks and first_task is None:
                first_task = elapsed
            samples.append((round(elapsed, 1), tasks, messages))
            if tasks >= len(ids) and messages >= len(ids):
                break
            if elapsed > timeout:
                raise SystemExit(f"gave up after {timeout:.0f} s: {tasks} tasks, {messages} messages")
            time.sleep(0.25)
    total = time.perf_counter() - started
    return {
        "accounts": len(ids),
        "seconds": round(total, 1),
        "add_to_segment_s": round(added, 2),
        "first_run_s": round(first_run, 2),
        "first_task_s": round(first_task, 2),
        "accounts_per_s": round(len(ids) / total),
        "progress": samples[:: max(1, len(samples) // 12)],
    }


def latency(play, token: str, external_ids: list[str], events: int, rng) -> dict:
    import uuid

    import orjson
    from django.test import Client
    from django.utils import timezone
    from django_scopes import scope

    from tend.plays.models import PlayRun, PlayRunStep

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="localhost")
    waits = []
    for i in range(events):
        time.sleep(rng.uniform(0.5, 1.5))  # land anywhere in the worker's idle poll
        account = external_ids[i % len(external_ids)]
        body = orjson.dumps([{
            "account_external_id": account, "activity": "bench.export",
            "timestamp": timezone.now().isoformat(), "message_id": str(uuid.uuid4()),
        }])  # fmt: skip
        sent = time.time()
        response = client.post("/api/v1/events", body, content_type="application/json")
        if response.status_code >= 300:
            raise SystemExit(f"ingest failed: {response.status_code} {response.content[:300]!r}")
        deadline = time.perf_counter() + 60
        with scope(workspace=play.workspace_id):
            while True:
                done = (
                    PlayRunStep.objects.filter(run__play=play, run__account__external_id=account)
                    .order_by("-pk")
                    .values_list("finished_at", flat=True)
                    .first()
                )
                runs = PlayRun.objects.filter(play=play).count()
                if done is not None and runs > i and done.timestamp() >= sent:
                    waits.append(done.timestamp() - sent)
                    break
                if time.perf_counter() > deadline:
                    raise SystemExit(f"event {i}: no step ran within 60 s")
                time.sleep(0.02)
    return {
        "events": events,
        "p50_s": round(statistics.median(waits), 2),
        "p95_s": round(percentile(waits, 0.95), 2),
        "max_s": round(max(waits), 2),
        "min_s": round(min(waits), 2),
    }


def profile(play, segment, actor, ids):
    """Advance ``len(ids)`` runs in this process under pyinstrument, counting queries."""
    from django.db import connection
    from django_scopes import scope

    from tend.plays.engine import advance_due
    from tend.plays.polling import poll_workspace
    from tend.segments.actions.membership import add_accounts

    with scope(workspace=segment.workspace_id):
        add_accounts(actor, segment, account_ids=ids)
        poll_workspace(segment.workspace)
        import cProfile
        import pstats

        kinds: dict[str, int] = {}

        def count(execute, sql, params, many, context):
            head = " ".join(sql.split()[:3])[:50]
            kinds[head] = kinds.get(head, 0) + 1
            return execute(sql, params, many, context)

        profiler = cProfile.Profile() if "--cprofile" in sys.argv else None
        with connection.execute_wrapper(count):
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            advanced = advance_due(segment.workspace_id, budget_seconds=3600)
            if profiler:
                profiler.disable()
            took = time.perf_counter() - started
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    for head, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:30]:
        print(f"{n:>7} {head}")
    queries = sum(kinds.values())
    print(f"{advanced} runs advanced in {took:.1f} s; {queries} queries, "
          f"{queries / max(advanced, 1):.1f} per run (2 steps)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--cprofile", action="store_true", help="with --profile: under cProfile")
    parser.add_argument("--no-scheduler", action="store_true", help="worker only")
    args = parser.parse_args()
    fresh_sqlite()
    import django

    django.setup()
    import orjson
    from django.db import connection

    ws, floor_ws, actor, segment, mass, latency_play, token, ids = setup(args.accounts)
    print(f"set up {args.accounts:,} accounts on {connection.vendor}", flush=True)
    if args.profile:
        profile(mass, segment, actor, ids)
        return
    figures = {"database": connection.vendor, "accounts": args.accounts}
    floor_s = floor(floor_ws, args.accounts)
    print(f"floor: {args.accounts:,} tasks + messages + delivery jobs by bulk_create in {floor_s:.2f} s", flush=True)
    connection.close()  # the worker processes must not share this one
    procs = Processes(DATA_DIR / "workers.log", scheduler=not args.no_scheduler)
    try:
        time.sleep(3)
        figures["idle_before_s"] = round(queue_idle(300), 1)
        # Latency first, on an idle queue; then the mass entry.
        from django_scopes import scopes_disabled

        from tend.accounts.models import Account

        with scopes_disabled():
            external = list(Account.objects.filter(pk__in=ids[:50]).values_list("external_id", flat=True))
        lat = latency(latency_play, token, external, args.events, random.Random(7))
        lat["meets_goal"] = lat["p95_s"] <= GOAL_LATENCY_SECONDS
        figures["latency"] = lat
        print(f"trigger to first step: {lat}", flush=True)
        queue_idle(300)
        mass_figures = mass_entry(actor, segment, mass, ids, timeout=3600)
        mass_figures["floor_s"] = round(floor_s, 2)
        mass_figures["ratio_to_floor"] = round(mass_figures["seconds"] / floor_s, 1)
        mass_figures["meets_goal"] = mass_figures["seconds"] <= GOAL_MASS_SECONDS
        figures["mass_entry"] = mass_figures
        print(f"mass entry: {mass_figures}", flush=True)
        figures["deliveries_left"] = deliveries_left(ws.pk)
        print(f"email deliveries still queued at that moment: {figures['deliveries_left']:,}", flush=True)
    finally:
        procs.stop()
    figures["goal"] = {"mass_entry_s": GOAL_MASS_SECONDS, "latency_s": GOAL_LATENCY_SECONDS}
    print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
