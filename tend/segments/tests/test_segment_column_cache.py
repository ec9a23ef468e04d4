"""The column cache (``tend.accounts.columns``) is never stale: after random writes through
the real write paths — account actions, the bulk upsert, a raw queryset update, event ingestion
and the usage rollup, health scoring, deletions — counts and segment evaluations read from the
cache agree with the compiled query and the pure evaluator; and a transaction committing
after the cache was refreshed (PostgreSQL: out of order) is seen by the next count.

These tests commit (``transaction=True``): the cache is only used outside transactions."""

import itertools
import threading

import numpy as np
import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tend.accounts import columns
from tend.accounts.actions.accounts import create_account, delete_account, update_account
from tend.accounts.actions.definitions.attributes import create_attribute
from tend.accounts.bulk.accounts import upsert_accounts
from tend.accounts.conditions import (
    account_catalog,
    condition_now,
    count_accounts,
    matching_accounts,
    matching_ids,
)
from tend.accounts.models import Account
from tend.accounts.tests.condition_checks import Population, cached_fields, random_conditions
from tend.health.actions.profiles import create_profile, ensure_default_profile
from tend.health.actions.scoring import score_workspace
from tend.health.tests.populations import weighted
from tend.segments.actions.evaluation import evaluate_segment
from tend.segments.actions.segments import create_segment
from tend.segments.models import SegmentMember
from tend.test import make_persona, make_workspace
from tend.usage import rollups
from tend.usage.tests.usage_history import NOW, send_events
from tend.workspaces.models import Seat

pytestmark = pytest.mark.django_db(transaction=True)

_new = itertools.count(1)
PLANS = ["free", "pro", "enterprise", None]
STATUSES = ["trial", "paying", "churned", "free"]
SEATS = [None, 0, 3, 10, 10.5, 50]
# Each example writes a workspace of its own: the database keeps what earlier ones wrote.
# No shrinking: a failure says its draws, and each example commits a lot.
STAYING = settings(
    max_examples=6,
    phases=[Phase.generate],
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def _empty_cache():
    columns.clear()
    yield
    assert columns.wait_for_builders(10)
    columns.clear()


def _world():
    """A workspace with two attributes, two health profiles and eight accounts; its admin."""
    owner = make_persona(make_workspace(), Seat.ADMIN)
    actor = owner.actor
    create_attribute(actor, {"key": "plan", "label": "Plan", "type": "enum", "options": PLANS[:3]})
    create_attribute(actor, {"key": "seats", "label": "Seats", "type": "number"})
    ensure_default_profile(owner.workspace)
    create_profile(
        actor,
        {
            "name": "Paying",
            "condition": {"field": "status", "op": "eq", "value": "paying"},
            "definition": weighted(
                ("adoption", 60, [("usage.active_days_14d", 100, 8, 2)]),
                ("support", 40, [("usage.events_30d", 100, 50, 5)]),
            ),
        },
    )
    for n in range(8):
        create_account(
            actor,
            {
                "external_id": f"a{n}",
                "name": f"A{n}",
                "status": STATUSES[n % 4],
                "attributes": {"plan": PLANS[n % 3], "seats": SEATS[n % len(SEATS)]},
            },
        )
    return owner


@pytest.fixture
def world(db):
    return _world()


def _accounts(workspace) -> list[Account]:
    return list(Account.objects.filter(workspace=workspace).order_by("id"))


def _write(owner, data) -> str:
    """One random write through a real write path; returns what it was (for a failure)."""
    actor, workspace = owner.actor, owner.workspace
    accounts = _accounts(workspace)
    kind = data.draw(
        st.sampled_from(
            ["create", "update", "delete", "bulk", "raw", "events", "score", "attribute"]
        )
    )
    status = data.draw(st.sampled_from(STATUSES))
    plan, seats = data.draw(st.sampled_from(PLANS)), data.draw(st.sampled_from(SEATS))
    if kind == "create" or not accounts:
        n = next(_new)
        attributes = {"plan": plan, "seats": seats}
        create_account(
            actor,
            {
                "external_id": f"new{n}",
                "name": f"New {n}",
                "status": status,
                "attributes": attributes,
            },
        )
        return "create"
    account = data.draw(st.sampled_from(accounts))
    if kind == "update":
        update_account(
            actor, account, {"status": status, "attributes": {"plan": plan, "seats": seats}}
        )
    elif kind == "delete":
        delete_account(actor, account)
    elif kind == "bulk":
        chosen = data.draw(st.lists(st.sampled_from(accounts), min_size=1, max_size=4, unique=True))
        items = [
            {"external_id": a.external_id, "status": status, "attributes": {"plan": plan}}
            for a in chosen
        ]
        upsert_accounts(actor, items)
    elif kind == "raw":
        # A write no action makes: a value of another type than the attribute's.
        Account.objects.filter(pk=account.pk).update(attributes={"plan": 3, "seats": "lots"})
    elif kind == "events":
        days = data.draw(st.sampled_from([0, 1, 5, 20]))
        send_events(workspace, [(account.external_id, "u1", "Logged in", "Core", days, 0, None)])
        rollups.roll_up(now=NOW)
    elif kind == "score":
        score_workspace(workspace, now=NOW)
    else:
        key = f"extra{len(account_catalog(workspace))}"
        create_attribute(actor, {"key": key, "label": key, "type": "text"})
        Account.objects.filter(pk=account.pk).update(attributes={"plan": plan, key: "yes"})
    return kind


def _check(owner, data, rounds_of_conditions: int = 4) -> None:
    workspace = owner.workspace
    catalog = account_catalog(workspace)
    now = condition_now(workspace, NOW)
    population = Population(workspace, catalog, now)
    fields = cached_fields(population, ("status", "attributes.", "usage.events", "health."))
    for _ in range(rounds_of_conditions):
        condition = data.draw(random_conditions(population, fields))
        expected = population.matching(condition)  # SQL and the pure evaluator agree
        sql_ids = np.sort(
            np.fromiter(
                matching_accounts(workspace, condition, catalog=catalog, now=NOW).values_list(
                    "pk", flat=True
                ),
                dtype=np.int64,
            )
        )
        cached = columns.match_ids(workspace.pk, condition, catalog, now)
        if columns.cacheable(condition, catalog):
            assert cached is not None, condition
            assert cached.tolist() == sql_ids.tolist(), (condition, expected)
        assert count_accounts(workspace, condition, catalog=catalog, now=NOW) == len(sql_ids)
        ids = matching_ids(workspace, condition, catalog=catalog, now=NOW)
        assert ids.tolist() == sql_ids.tolist()


@given(data=st.data())
@STAYING
def test_cached_counts_agree_after_random_writes_through_every_write_path(db, data):
    assert not connection.in_atomic_block
    world = _world()
    done = []
    for _ in range(12):
        done.append(_write(world, data))
        _check(world, data, 3)
    assert world.workspace.pk in columns._entries, done  # the cache answered, and was kept


def test_a_segment_evaluated_from_the_cache_follows_every_change(world):
    actor, workspace = world.actor, world.workspace
    condition = {
        "all": [
            {"field": "status", "op": "eq", "value": "paying"},
            {"field": "attributes.seats", "op": "gte", "value": 10},
        ]
    }
    segment = create_segment(actor, {"name": "Big payers", "condition": condition})

    def members() -> set[int]:
        return set(
            SegmentMember.objects.filter(segment=segment).values_list("account_id", flat=True)
        )

    def expected() -> set[int]:
        return set(matching_accounts(workspace, condition).values_list("pk", flat=True))

    evaluate_segment(segment)
    assert members() == expected() and workspace.pk in columns._entries
    a0, a1 = _accounts(workspace)[:2]
    update_account(actor, a0, {"status": "paying", "attributes": {"seats": 99}})
    update_account(actor, a1, {"status": "churned"})
    result = evaluate_segment(segment)
    assert a0.pk in members() and a1.pk not in members() and members() == expected()
    assert a0.pk in result.entered or a0.pk in members()
    delete_account(actor, a0)
    evaluate_segment(segment)
    assert a0.pk not in members() and members() == expected()


def test_a_transaction_committing_after_the_cache_was_refreshed_is_seen_next_time(world):
    """The writer stamps its rows inside a transaction still open while a count refreshes the
    cache (on PostgreSQL its id is older than the count's snapshot); once it commits, the
    next count reloads them."""
    workspace = world.workspace
    condition = {"field": "status", "op": "eq", "value": "paying"}
    catalog = account_catalog(workspace)
    target = next(a for a in _accounts(workspace) if a.status != "paying")
    before = count_accounts(workspace, condition, catalog=catalog)
    written, release, failures = threading.Event(), threading.Event(), []

    def writer():
        try:
            with scopes_disabled(), transaction.atomic():
                Account.objects.filter(pk=target.pk).update(status="paying")
                written.set()
                release.wait(10)
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)
            written.set()
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert written.wait(10)
        # Not committed: the count is the one before, and the cache keeps its mark.
        assert count_accounts(workspace, condition, catalog=catalog) == before
    finally:
        release.set()
        thread.join(10)
    assert failures == []
    assert count_accounts(workspace, condition, catalog=catalog) == before + 1
    assert columns.match_ids(workspace.pk, condition, catalog, condition_now(workspace)) is not None


def test_the_cache_is_not_used_inside_a_transaction_nor_when_turned_off(world):
    workspace = world.workspace
    catalog = account_catalog(workspace)
    condition = {"field": "status", "op": "eq", "value": "paying"}
    now = condition_now(workspace)
    assert columns.match_ids(workspace.pk, condition, catalog, now) is not None
    with transaction.atomic():
        Account.objects.filter(workspace=workspace).update(status="paying")
        assert columns.match_ids(workspace.pk, condition, catalog, now) is None
        assert count_accounts(workspace, condition, catalog=catalog) == 8
        transaction.set_rollback(True)
    assert count_accounts(workspace, condition, catalog=catalog) == 2
    with override_settings(TEND_SEGMENT_CACHE=False):
        assert columns.match_ids(workspace.pk, condition, catalog, now) is None
        assert count_accounts(workspace, condition, catalog=catalog) == 2
    # A field held by no column (tags) or a change filter goes to the database.
    assert columns.match_ids(workspace.pk, {"field": "tags", "op": "is_set"}, catalog, now) is None
    change = {"field": "health.score", "op": "changed_by", "value": 5, "days": 7}
    assert columns.match_ids(workspace.pk, change, catalog, now) is None


def test_entries_beyond_the_memory_bound_are_dropped_least_recently_used_first(
    world, other_workspace
):
    workspace = world.workspace
    condition = {"field": "status", "op": "eq", "value": "paying"}
    now = condition_now(workspace)
    first = columns.match_ids(workspace.pk, condition, account_catalog(workspace), now)
    assert first is not None and list(columns._entries) == [workspace.pk]
    with override_settings(TEND_SEGMENT_CACHE_MB=0):
        other = columns.match_ids(
            other_workspace.pk, condition, account_catalog(other_workspace), now
        )
        assert other is not None and len(other) == 0
        assert list(columns._entries) == []  # over the bound: nothing kept
    assert columns.count(workspace.pk, condition, account_catalog(workspace), now) == len(first)


# --- Cold entries of large workspaces: the database answers while a builder thread reads ---

PAYING = {"field": "status", "op": "eq", "value": "paying"}


def _sql_count(workspace) -> int:
    return matching_accounts(workspace, PAYING).count()


def _counted_by_sql(workspace, catalog) -> tuple[int, bool]:
    """(count_accounts, whether it read the accounts table: the compiled query answered)."""
    with CaptureQueriesContext(connection) as queries:
        found = count_accounts(workspace, PAYING, catalog=catalog)
    table = Account._meta.db_table
    # The compiled query's count (the bounded size check is a count of a subquery).
    return found, any(f'"__count" FROM "{table}"' in q["sql"] for q in queries)


@override_settings(TEND_SEGMENT_CACHE_INLINE_ACCOUNTS=4)
def test_a_cold_count_is_answered_by_the_database_while_a_thread_builds_the_entry(
    world, monkeypatch
):
    workspace = world.workspace
    catalog = account_catalog(workspace)
    expected = _sql_count(workspace)
    started, release = threading.Event(), threading.Event()
    real = columns._build_entry

    def slow(*args):
        started.set()
        assert release.wait(10)
        return real(*args)

    monkeypatch.setattr(columns, "_build_entry", slow)
    try:
        found, by_sql = _counted_by_sql(workspace, catalog)
        # Answered while the builder is held: the count did not wait for it.
        assert (found, by_sql) == (expected, True)
        assert started.wait(10) and columns.building(workspace.pk)
        assert workspace.pk not in columns._entries
        assert matching_ids(workspace, PAYING, catalog=catalog).tolist() == sorted(
            matching_accounts(workspace, PAYING).values_list("pk", flat=True)
        )
    finally:
        release.set()
    assert columns.wait_for_builders(10)
    assert workspace.pk in columns._entries and not columns.building(workspace.pk)
    assert _counted_by_sql(workspace, catalog) == (expected, False)  # from the cache now
    # A condition on a column the entry does not hold yet: the database again, then the cache.
    seats = {"field": "attributes.seats", "op": "gte", "value": 10}
    sql_seats = matching_accounts(workspace, seats).count()
    assert columns.count(workspace.pk, seats, catalog, condition_now(workspace)) is None
    assert count_accounts(workspace, seats, catalog=catalog) == sql_seats
    assert columns.wait_for_builders(10)
    assert columns.count(workspace.pk, seats, catalog, condition_now(workspace)) == sql_seats
    assert columns.count(workspace.pk, PAYING, catalog, condition_now(workspace)) == expected


@override_settings(TEND_SEGMENT_CACHE_INLINE_ACCOUNTS=4)
def test_writes_committed_while_a_builder_reads_are_seen_by_the_next_count(world, monkeypatch):
    """The builder takes its mark before it reads: a write committed after the columns were
    read but before the entry is installed is stamped above the mark and reloaded."""
    workspace = world.workspace
    catalog = account_catalog(workspace)
    target = next(a for a in _accounts(workspace) if a.status != "paying")
    real = columns._build_entry

    def write_meanwhile(*args):
        entry = real(*args)
        Account.objects.filter(pk=target.pk).update(status="paying")  # committed
        return entry

    monkeypatch.setattr(columns, "_build_entry", write_meanwhile)
    before = _sql_count(workspace)
    assert count_accounts(workspace, PAYING, catalog=catalog) == before
    assert columns.wait_for_builders(10)
    assert _counted_by_sql(workspace, catalog) == (before + 1, False)


@override_settings(TEND_SEGMENT_CACHE_INLINE_ACCOUNTS=4)
def test_a_failing_builder_leaves_the_database_answering(world, monkeypatch, caplog):
    workspace = world.workspace
    catalog = account_catalog(workspace)
    expected = _sql_count(workspace)

    def broken(*args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(columns, "_build_entry", broken)
    with caplog.at_level("ERROR", logger="tend.accounts.columns"):
        assert _counted_by_sql(workspace, catalog) == (expected, True)
        assert columns.wait_for_builders(10)
    assert "disk on fire" in caplog.text and workspace.pk not in columns._entries
    assert _counted_by_sql(workspace, catalog) == (expected, True)  # and another builder
    assert columns.wait_for_builders(10)
    monkeypatch.undo()
    assert count_accounts(workspace, PAYING, catalog=catalog) == expected
    assert columns.wait_for_builders(10)
    assert _counted_by_sql(workspace, catalog) == (expected, False)


def test_small_workspaces_and_synchronous_settings_build_inline(world):
    workspace = world.workspace
    catalog = account_catalog(workspace)
    expected = _sql_count(workspace)
    assert _counted_by_sql(workspace, catalog) == (expected, False)  # 8 accounts: inline
    columns.clear()
    with override_settings(
        TEND_SEGMENT_CACHE_INLINE_ACCOUNTS=4, TEND_SEGMENT_CACHE_BACKGROUND=False
    ):
        assert _counted_by_sql(workspace, catalog) == (expected, False)
        assert not columns.building(workspace.pk)
