"""``tend.usage.queries``: the account tree and the stream's merged pages across accounts."""

import pytest

from tend.accounts.actions.accounts import create_account
from tend.accounts.models import Account
from tend.usage import queries
from tend.usage.models import UsageEvent
from tend.usage.tests.usage_history import build_history, send_events

pytestmark = pytest.mark.django_db


def walk(workspace, account_ids, limit, **filters) -> list[int]:
    ids, cursor = [], None
    while True:
        page = queries.recent_events(
            workspace, account_ids=account_ids, cursor=cursor, limit=limit, **filters
        )
        ids += [e.id for e in page.events]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


@pytest.fixture
def tree(owner, workspace):
    accounts = build_history(owner)
    # Interleave the two accounts' events in time, several on the same instant.
    send_events(
        workspace,
        [
            ("acme" if i % 2 else "acme-eu", "u1", "Tick", "Core", 3, i // 3, None)
            for i in range(30)
        ],
    )
    return accounts


@pytest.mark.parametrize("merge_max", [queries.MERGE_MAX_ACCOUNTS, 1])
def test_a_tree_stream_walks_every_event_once_newest_first(workspace, tree, monkeypatch, merge_max):
    # merge_max 1: the same answer from the plain sort used for very large trees.
    monkeypatch.setattr(queries.events, "MERGE_MAX_ACCOUNTS", merge_max)
    ids = [tree["acme"].pk, tree["acme-eu"].pk]
    walked = walk(workspace, ids, 4)
    expected = list(
        UsageEvent.objects.filter(account_id__in=ids)
        .order_by("-ts", "-id")
        .values_list("id", flat=True)
    )
    assert walked == expected and len(expected) == 47


def test_a_tree_stream_applies_the_filters_in_every_account(workspace, tree):
    ids = [tree["acme"].pk, tree["acme-eu"].pk]
    walked = walk(workspace, ids, 3, module="Core", activity="Logged in")
    assert len(walked) == 8
    assert set(UsageEvent.objects.filter(id__in=walked).values_list("activity", flat=True)) == {
        "Logged in"
    }


def test_the_tree_holds_descendants_down_to_the_depth_bound(owner):
    actor = owner.actor
    create_account(actor, {"external_id": "l0", "name": "Level 0"})
    for level in range(1, 13):
        create_account(
            actor,
            {
                "external_id": f"l{level}",
                "name": f"Level {level}",
                "parent_external_id": f"l{level - 1}",
            },
        )
    root = Account.objects.get(external_id="l0")
    tree = queries.account_tree(root)
    assert [m.depth for m in tree.members] == list(range(queries.MAX_DEPTH + 1))
    assert queries.account_tree(root, depth=0).ids(include_children=True) == [root.pk]
    assert not tree.has_usage(include_children=True)


def test_a_cycle_in_the_hierarchy_ends_the_walk(owner):
    actor = owner.actor
    a = create_account(actor, {"external_id": "a", "name": "A"})
    b = create_account(actor, {"external_id": "b", "name": "B", "parent_external_id": "a"})
    # Written past the actions, which refuse cycles: the reads must not loop on one anyway.
    Account.objects.filter(pk=a.pk).update(parent=b)
    tree = queries.account_tree(a)
    assert [m.id for m in tree.members] == [a.pk, b.pk]


def test_the_tree_stays_in_its_workspace(owner, outsider):
    ours = create_account(owner.actor, {"external_id": "ours", "name": "Ours"})
    theirs = create_account(outsider.actor, {"external_id": "theirs", "name": "Theirs"})
    # A parent link across workspaces cannot be made through the actions; a stray one is ignored.
    Account.objects.filter(pk=theirs.pk).update(parent=ours)
    assert queries.account_tree(ours).ids(include_children=True) == [ours.pk]
