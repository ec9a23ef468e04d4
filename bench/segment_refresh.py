"""Benchmark: what keeping dynamic segments fresh costs.

Set-up (not measured): the population of ``bench/segments.py`` (statuses, two attributes,
usage and health rows), in a database of its own.

Measured, with the real actions:

(a) the **first evaluation** of the 5-predicate segment of ``bench/segments.py`` (every
    matching account enters: a member row and a change row each);
(b) a **re-evaluation with nothing changed** — what the minute refresh costs per segment
    most of the time;
(c) a **re-evaluation after 1 % of accounts changed** status (entries and exits written);
(d) **refreshing a workspace of five dynamic segments** with nothing changed (the
    scheduler's work every minute), and the share of one core that is per minute.

Baseline in the same run: ``SELECT count(*)`` of the workspace's accounts.

    .venv/bin/python bench/segment_refresh.py --accounts 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_refresh .venv/bin/python bench/segment_refresh.py

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
DATA_DIR = ROOT / "bench" / "out-segment-refresh"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("TEND_DATA_DIR", str(DATA_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")

import segments as population  # noqa: E402  (bench/segments.py: the same accounts)

OTHERS = [
    {"field": "status", "op": "eq", "value": "paying"},
    {"all": [{"field": "health.rank", "op": "eq", "value": "poor"}, {"field": "status", "op": "eq", "value": "paying"}]},
    {"field": "attributes.plan", "op": "eq", "value": "enterprise"},
    {"any": [{"field": "usage.events_30d", "op": "lt", "value": 5}, {"field": "usage.events_30d", "op": "is_not_set"}]},
]  # fmt: skip


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10)
    return parser.parse_args()


def timed(func) -> tuple[float, object]:
    started = time.perf_counter()
    result = func()
    return time.perf_counter() - started, result


def main():
    args = parse_args()
    if not population.is_postgres():
        shutil.rmtree(DATA_DIR, ignore_errors=True)
        DATA_DIR.mkdir(parents=True)
    population.fill(args.accounts)
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from tend.accounts.models import Account
    from tend.segments.actions import create_segment, evaluate_segment, refresh_segments
    from tend.segments.models import Segment
    from tend.workspaces.access import system_actor
    from tend.workspaces.models import Workspace

    ms = population.ms
    with scopes_disabled():
        workspace = Workspace.objects.get(slug=population.SLUG)
        actor = system_actor(workspace)
        table = connection.ops.quote_name(Account._meta.db_table)
        baseline = []
        for _ in range(args.runs):
            with connection.cursor() as cursor:
                seconds, _ = timed(
                    lambda: cursor.execute(
                        f"SELECT count(*) FROM {table} WHERE workspace_id = %s",  # noqa: S608
                        [workspace.pk],
                    )
                )
                baseline.append(seconds)
        segment = create_segment(
            actor,
            {"name": "Bench", "condition": population.SEGMENT, "visibility": "shared"},
            evaluate=False,
        )
        first, result = timed(lambda: evaluate_segment(segment))
        print(f"first evaluation: {len(result.entered):,} entered in {ms(first)} ms", flush=True)
        steady = []
        for _ in range(args.runs):
            seconds, result = timed(lambda: evaluate_segment(Segment.objects.get(pk=segment.pk)))
            assert not result.entered and not result.left
            steady.append(seconds)
        print(f"unchanged: p50 {ms(population.percentile(steady, 0.5))} ms", flush=True)
        rng = random.Random(population.SEED)
        ids = list(Account.objects.filter(workspace=workspace).values_list("pk", flat=True))
        moved = rng.sample(ids, len(ids) // 100)
        Account.objects.filter(pk__in=moved, status="paying").update(status="churned")
        Account.objects.filter(pk__in=moved).exclude(status="churned").update(status="paying")
        churn, result = timed(lambda: evaluate_segment(Segment.objects.get(pk=segment.pk)))
        print(
            f"after 1% changed: {len(result.entered):,} entered, {len(result.left):,} left "
            f"in {ms(churn)} ms",
            flush=True,
        )
        for i, condition in enumerate(OTHERS):
            create_segment(
                actor, {"name": f"Other {i}", "condition": condition, "visibility": "shared"}
            )
        refresh = []
        for _ in range(max(3, args.runs // 2)):
            later = timezone.now() + timezone.timedelta(minutes=2)  # every segment is due
            seconds, results = timed(lambda at=later: refresh_segments(workspace, now=at))
            assert len(results) == 5
            refresh.append(seconds)
        matched = Segment.objects.get(pk=segment.pk).member_count
    database = "postgresql" if population.is_postgres() else "sqlite"
    per_minute = population.percentile(refresh, 0.5)
    figures = {
        "database": database,
        "accounts": len(ids),
        "matched": matched,
        "count_all_p50_ms": ms(population.percentile(baseline, 0.5)),
        "first_evaluation_ms": ms(first),
        "unchanged_p50_ms": ms(population.percentile(steady, 0.5)),
        "unchanged_p95_ms": ms(population.percentile(steady, 0.95)),
        "one_percent_changed_ms": ms(churn),
        "refresh_five_segments_p50_ms": ms(per_minute),
        "share_of_a_core_per_minute": round(per_minute / 60, 4),
    }
    print(
        f"refreshing five segments: p50 {figures['refresh_five_segments_p50_ms']} ms "
        f"({figures['share_of_a_core_per_minute']:.1%} of a core each minute)",
        flush=True,
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
